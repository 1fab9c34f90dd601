"""The verdict engine's promise, checked from the outside: no verdict contradicts a
decisive signal in its own evidence unless that evidence also names the disagreement
(`signals-disagree`). docs/verdicts.md, "The scoring model", lists the decisive signals;
this is the same list, seen from the JSON.
"""

# decisive signal -> the verdicts it allows
NEARER_DEVICE = {"refused-by-middlebox", "injected-reset", "icmp-unreachable"}
DECISIVE = {
    "early-reset": NEARER_DEVICE,
    "network-gear-ttl": NEARER_DEVICE,
    # a SYN/ACK reached the client: the port answered (a RST injected before it is
    # still an injected reset; the client's act may follow either)
    "client-proves-syn-ack": {"open", "injected-reset"},
}


def contradictions(attempt):
    """The decisive signals of one attempt (synprobe's JSON) that its verdict contradicts
    without saying so."""
    signals = {e["signal"] for e in attempt.get("evidence", [])}
    if "signals-disagree" in signals:
        return []
    return [f"attempt {attempt['id']}: verdict {attempt['verdict']} contradicts decisive '{s}'"
            for s, allowed in DECISIVE.items()
            if s in signals and attempt["verdict"] not in allowed]
