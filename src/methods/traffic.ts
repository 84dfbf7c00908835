/**
 * The traffic model of spec §4 as pure functions: how many bits each worker sends and receives in
 * one step, how many communication rounds (latency steps) the step takes, and how many bits lie on
 * its critical path. The methods use these for their counters and `dcomp traffic` prints them.
 * docs/communication.md walks through the model with worked examples.
 *
 * Links are point to point and full duplex; a round is one set of transfers that can run in parallel.
 */

import { ceilLog2 } from '../core/integer.js';
import { sparseBits, denseBits } from '../compressors/wire.js';

// One definition of the bit costs of spec §3, shared with the compressors.
export { ceilLog2, sparseBits as sparseMessageBits, denseBits as denseMessageBits };

/** One step's traffic. "Sent"/"received" are per worker (the master of master–worker methods is not a worker). */
export interface StepTraffic {
  readonly workers: number;
  /** Average over the n workers of the bits each sent. */
  readonly sentPerWorker: number;
  /** Average over the n workers of the bits each received. */
  readonly receivedPerWorker: number;
  /** The largest number of bits one worker sent. */
  readonly busiestSent: number;
  /** The largest number of bits one worker received. */
  readonly busiestReceived: number;
  /** Σ over workers of bits sent (the `bits_up_total` column's increment). */
  readonly totalSent: number;
  /** Σ over workers of bits received: every delivered bit crosses one link, so this is the network total. */
  readonly totalReceived: number;
  /** Communication rounds (latency steps) the step needs. */
  readonly rounds: number;
  /** Bits that must be transferred one after another along the longest dependency chain. */
  readonly criticalPathBits: number;
}

/**
 * Master–worker (gd, cgd, ef, ef21): each worker sends its message to the master, the master
 * broadcasts the new iterate (dense, `d·F`) to every worker. Two rounds; the critical path is one
 * uplink message followed by the downlink broadcast.
 * `uplinkSum`/`uplinkMax`: Σ and max over workers of their message bits this step (0 when nothing is
 * sent, e.g. the broadcast-only half of a step); `downlinkPerWorker`: bits each worker receives.
 */
export function masterWorkerTraffic(n: number, uplinkSum: number, uplinkMax: number, downlinkPerWorker: number): StepTraffic {
  return {
    workers: n,
    sentPerWorker: uplinkSum / n,
    receivedPerWorker: downlinkPerWorker,
    busiestSent: uplinkMax,
    busiestReceived: downlinkPerWorker,
    totalSent: uplinkSum,
    totalReceived: n * downlinkPerWorker,
    rounds: (uplinkSum > 0 ? 1 : 0) + (downlinkPerWorker > 0 ? 1 : 0),
    criticalPathBits: uplinkMax + downlinkPerWorker,
  };
}

/**
 * All-gather of n sparse messages of P bits (topk-ssgd): each worker sends its own message once
 * (P) and receives the n − 1 others ((n − 1)·P). In ⌈log2 n⌉ rounds (Bruck's all-gather) every
 * worker's link still has to carry the (n − 1)·P bits it receives, so that is the critical path.
 * A single worker has nobody to send to: no traffic at all.
 */
export function allGatherTraffic(n: number, messageBits: number): StepTraffic {
  if (n === 1) return zeroTraffic(1);
  return {
    workers: n,
    sentPerWorker: messageBits,
    receivedPerWorker: (n - 1) * messageBits,
    busiestSent: messageBits,
    busiestReceived: (n - 1) * messageBits,
    totalSent: n * messageBits,
    totalReceived: n * (n - 1) * messageBits,
    rounds: ceilLog2(n),
    criticalPathBits: (n - 1) * messageBits,
  };
}

/**
 * Number of children each node has in the recursive-halving tree (see `reductionRounds`): in round
 * r, node i with i mod 2^{r+1} = 0 receives from i + 2^r when that node exists.
 */
export function treeChildren(n: number): Int32Array {
  const children = new Int32Array(n);
  for (let half = 1; half < n; half *= 2) {
    for (let i = 0; i + half < n; i += 2 * half) children[i]++;
  }
  return children;
}

/**
 * Tree reduction then broadcast back down the same tree (gtopk): every non-root node sends its
 * current top-k (P) once to its parent and receives G̃ (P) once from it; a node with c children
 * receives c·P going up and sends c·P coming down. ⌈log2 n⌉ rounds each way, one P-bit message per
 * pair per round: critical path 2·⌈log2 n⌉·P; sum over links 2(n − 1)·P.
 */
export function treeReduceBroadcastTraffic(n: number, messageBits: number): StepTraffic {
  if (n === 1) return zeroTraffic(1);
  const children = treeChildren(n);
  let busiestSent = 0;
  let busiestReceived = 0;
  for (let i = 0; i < n; i++) {
    const parent = i === 0 ? 0 : 1;
    busiestSent = Math.max(busiestSent, (parent + children[i]) * messageBits);
    busiestReceived = Math.max(busiestReceived, (children[i] + parent) * messageBits);
  }
  const total = 2 * (n - 1) * messageBits;
  const depth = ceilLog2(n);
  return {
    workers: n,
    sentPerWorker: total / n,
    receivedPerWorker: total / n,
    busiestSent,
    busiestReceived,
    totalSent: total,
    totalReceived: total,
    rounds: 2 * depth,
    criticalPathBits: 2 * depth * messageBits,
  };
}

function zeroTraffic(n: number): StepTraffic {
  return {
    workers: n, sentPerWorker: 0, receivedPerWorker: 0, busiestSent: 0, busiestReceived: 0,
    totalSent: 0, totalReceived: 0, rounds: 0, criticalPathBits: 0,
  };
}

/** The two sparsified S-SGD methods whose growth rates `dcomp traffic` compares. */
export type SparseSyncMethod = 'topk-ssgd' | 'gtopk';
export const SPARSE_SYNC_METHODS: readonly SparseSyncMethod[] = ['topk-ssgd', 'gtopk'];

/** Per-step traffic of topk-ssgd or gtopk with n workers, k kept coordinates out of d, F-bit floats. */
export function sparseSyncTraffic(method: SparseSyncMethod, n: number, k: number, d: number, floatBits: number, indexBits?: number): StepTraffic {
  const p = sparseBits(k, d, floatBits, indexBits);
  return method === 'gtopk' ? treeReduceBroadcastTraffic(n, p) : allGatherTraffic(n, p);
}

/**
 * α-β time of one step's communication (as in the gTop-k paper): every round pays the latency α
 * (seconds), the critical path's bits pay 1/bandwidth (seconds per bit).
 */
export function alphaBetaSeconds(traffic: StepTraffic, latencySeconds: number, bandwidthBitsPerSecond: number): number {
  return traffic.rounds * latencySeconds + traffic.criticalPathBits / bandwidthBitsPerSecond;
}

/** Cumulative traffic beyond the spec's three CSV columns (busiest worker, rounds, critical path). */
export interface TrafficCounters {
  busiestSent: number;
  busiestReceived: number;
  rounds: number;
  criticalPathBits: number;
}

export function emptyCounters(): TrafficCounters {
  return { busiestSent: 0, busiestReceived: 0, rounds: 0, criticalPathBits: 0 };
}

/** The state fields every method in this folder keeps. */
export interface CountedState {
  bitsUpTotal: number;
  bitsDownTotal: number;
  readonly traffic: TrafficCounters;
}

/** Adds one step's traffic to a state's counters (allocates nothing). */
export function addTraffic(state: CountedState, step: StepTraffic): void {
  state.bitsUpTotal += step.totalSent;
  state.bitsDownTotal += step.totalReceived;
  state.traffic.busiestSent += step.busiestSent;
  state.traffic.busiestReceived += step.busiestReceived;
  state.traffic.rounds += step.rounds;
  state.traffic.criticalPathBits += step.criticalPathBits;
}

/**
 * Master–worker counters without building a StepTraffic object (the hot path of gd/cgd/ef/ef21):
 * the same arithmetic as `masterWorkerTraffic` followed by `addTraffic`.
 */
export function addMasterWorkerTraffic(state: CountedState, n: number, uplinkSum: number, uplinkMax: number, downlinkPerWorker: number): void {
  state.bitsUpTotal += uplinkSum;
  state.bitsDownTotal += n * downlinkPerWorker;
  state.traffic.busiestSent += uplinkMax;
  state.traffic.busiestReceived += downlinkPerWorker;
  state.traffic.rounds += (uplinkSum > 0 ? 1 : 0) + (downlinkPerWorker > 0 ? 1 : 0);
  state.traffic.criticalPathBits += uplinkMax + downlinkPerWorker;
}
