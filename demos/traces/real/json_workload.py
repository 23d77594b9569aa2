"""json_workload.py - the python3 trace's workload: build records, then
encode them to JSON and decode them again, three rounds, keeping some and
adding new ones each round. Its data comes from a linear congruential
generator with a fixed seed (no random module), so every run is the same."""
import json

x = 12345


def rnd(n):
    global x
    x = (x * 1103515245 + 12345) & 0x7FFFFFFF
    return (x >> 16) % n


WORDS = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta", "iota", "kappa"]


def record(i):
    return {"id": i,
            "name": "".join(WORDS[rnd(10)] for _ in range(1 + rnd(4))),
            "tags": [WORDS[rnd(10)] for _ in range(rnd(6))],
            "score": rnd(100000) / 100.0,
            "nested": {"a": rnd(1000), "b": [rnd(50) for _ in range(rnd(8))]}}


data = [record(i) for i in range(40)]
for rnd_no in range(3):
    s = json.dumps(data, sort_keys=True)
    back = json.loads(s)
    data = [d for d in back if d["score"] > 250] + [record(i) for i in range(25)]
print(len(s), len(data))
