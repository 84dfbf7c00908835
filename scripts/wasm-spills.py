#!/usr/bin/env python3
# Lists the loops with eight or more vector additions in V8's machine code for the wasm kernels, and how many
# vector moves to or from the stack ([rbp-…]) each has: a spill there costs a store and a reload per iteration.
#   node --no-liftoff --print-wasm-code scripts/mlp-ab.mjs . a9a 64,32 > /tmp/code.txt && scripts/wasm-spills.py /tmp/code.txt
import re,sys
txt=open(sys.argv[1]).read().split('\n')
addr=[];ins=[];fn=[]
cur=None
for l in txt:
    if l.startswith('name:'): cur=l[6:]
    m=re.match(r'0x([0-9a-f]+)\s+([0-9a-f]+)\s+([0-9a-f]+)\s+(.*)$',l)
    if m: addr.append(int(m.group(1),16)); ins.append(m.group(4)); fn.append(cur)
seen=set(); tot=0
for i,t in enumerate(ins):
    m=re.match(r'j\w+\s+0x([0-9a-f]+)',t)
    if m:
        tgt=int(m.group(1),16)
        if tgt<=addr[i] and tgt in addr:
            j=addr.index(tgt)
            if fn[j]!=fn[i]: continue
            body=ins[j:i+1]
            if len(body)<140 and sum('vaddpd' in x for x in body)>=8 and tgt not in seen:
                seen.add(tgt)
                sp=len([x for x in body if re.search(r'vmov(ups|dqu|apd).*\[rbp',x)])
                tot+=sp
                mul=any('vmulpd' in x for x in body)
                st=sum(1 for x in body if re.match(r'vmov(dqu|ups) \[r(?!bp)',x))
                if sp: print(fn[i], hex(tgt), 'len', len(body), 'adds', sum('vaddpd' in x for x in body), 'stores', st, 'mul' if mul else 'nomul', 'SPILLS', sp)
print('total vector spill moves in such loops:', tot)
