import { test } from 'node:test';
import assert from 'node:assert/strict';
import { trafficCommand } from '../src/cli/traffic.js';

async function runTraffic(args: string[]): Promise<{ out: string; err: string }> {
  let out = '';
  let err = '';
  const cmd = trafficCommand({ stdout: (t) => (out += t), stderr: (t) => (err += t), env: { CI: '1' } });
  cmd.exitOverride();
  await cmd.parseAsync(args, { from: 'user' });
  return { out, err };
}

test('dcomp traffic prints a CSV where gtopk critical path grows as 2⌈log2 n⌉·P and topk-ssgd as (n − 1)·P', async () => {
  const { out, err } = await runTraffic(['--k', '10', '--d', '1000', '--workers', '2,4,8,1024', '--format', 'csv']);
  const lines = out.trim().split('\n');
  assert.equal(lines[0], 'method,workers,message_bits,sent_per_worker,received_per_worker,busiest_sent,busiest_received,total_sent,network_total,rounds,critical_path_bits');
  const rows = lines.slice(1).map((l) => l.split(','));
  assert.equal(rows.length, 8);
  const P = 10 * (32 + 10);
  const get = (method: string, n: number) => rows.find((r) => r[0] === method && r[1] === String(n))!;
  assert.equal(Number(get('topk-ssgd', 1024)[10]), 1023 * P);
  assert.equal(Number(get('topk-ssgd', 1024)[4]), 1023 * P, 'received per worker');
  assert.equal(Number(get('gtopk', 1024)[10]), 20 * P);
  assert.equal(Number(get('gtopk', 1024)[8]), 2 * 1023 * P, 'network total 2(n − 1)·P');
  assert.equal(Number(get('gtopk', 8)[5]), 3 * P, 'the root is the busiest worker');
  assert.match(err, /critical-path bits per step/);
  assert.doesNotMatch(err, /\u001b\[/, 'no colour codes when not on a TTY');
});

test('dcomp traffic adds the α-β time per step with --latency and --bandwidth', async () => {
  const { out } = await runTraffic(['--method', 'gtopk', '--k', '5', '--d', '100', '--workers', '8', '--latency', '0.001', '--bandwidth', '1170', '--format', 'csv', '--no-plot']);
  const [header, row] = out.trim().split('\n');
  assert.ok(header.endsWith(',seconds_per_step'));
  assert.equal(Number(row.split(',').at(-1)), 6 * 0.001 + 1);
});

test('dcomp traffic rejects bad options naming the option', async () => {
  const cases: Array<[string[], RegExp]> = [
    [['--d', '100'], /^--k:/],
    [['--k', '5'], /^--d:/],
    [['--k', '101', '--d', '100'], /^--k:/],
    [['--k', '5', '--d', '100', '--workers', '2,x'], /^--workers:/],
    [['--k', '5', '--d', '100', '--workers', '0'], /^--workers:/],
    [['--k', '5', '--d', '100', '--method', 'gd'], /^--method:/],
    [['--k', '5', '--d', '100', '--latency', '1e-5'], /^--latency:/],
    [['--k', '5', '--d', '100', '--latency', '1', '--bandwidth', '0'], /^--bandwidth:/],
    [['--k', '5', '--d', '100', '--float-bits', '-3'], /^--float-bits:/],
  ];
  for (const [args, message] of cases) {
    await assert.rejects(runTraffic(args), (e: Error) => e.name === 'UsageError' && message.test(e.message), args.join(' '));
  }
});

test('dcomp traffic text table lists every method and worker count', async () => {
  const { out } = await runTraffic(['--k', '1', '--d', '2', '--workers', '1,3', '--no-plot']);
  const lines = out.trim().split('\n');
  assert.match(lines[0], /^method\s+workers/);
  assert.equal(lines.filter((l) => /^(topk-ssgd|gtopk)\s/.test(l)).length, 4);
  // n = 1: nothing to communicate
  assert.match(lines.find((l) => /^gtopk\s+1\s/.test(l))!, /^gtopk\s+1\s+33(\s+0){8}$/);
});
