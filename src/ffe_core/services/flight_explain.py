"""A decision's trail told in plain words, from its input to its fills (``ffe decisions explain``)."""

from __future__ import annotations

from collections.abc import Iterator

from ffe_core.domain.flight import DecisionTrail, GateVerdict, ReplayReport


def _snapshot_lines(trail: DecisionTrail) -> Iterator[str]:
    record, snapshot = trail.record, trail.snapshot
    if record is None:
        yield "No flight record: this decision was made before the recorder, or not stored."
        return
    if snapshot is None:
        yield f"Input snapshot {record.snapshot_hash[:12]} is missing from storage."
        return
    bars = snapshot.get("bars") or []
    position = snapshot.get("position") or {}
    last = bars[-1] if bars else {}
    yield (
        f"Input: {len(bars)} bars of {record.instrument} up to {last.get('ts', '?')} "
        f"(last close {last.get('close', '?')}), {len(snapshot.get('indicators') or {})} "
        f"indicators, position {position.get('quantity', '0')}, "
        f"{len(snapshot.get('memory') or [])} past decisions in memory "
        f"(snapshot {record.snapshot_hash[:12]})."
    )


def _provider_lines(trail: DecisionTrail) -> Iterator[str]:
    specs = {s.provider: s for s in trail.record.providers} if trail.record else {}
    for vote in trail.decision.votes:
        spec = specs.get(vote.provider)
        how = f"model {vote.model or (spec.model if spec else None) or 'unknown'}"
        if spec is not None and spec.prompt_hash:
            how += f", prompt v{spec.prompt_version} {spec.prompt_hash[:12]}"
        weight = trail.decision.weights.get(vote.provider, 1.0)
        cost = f", ${vote.cost_usd:.4f} ({vote.tokens_in}+{vote.tokens_out} tokens)"
        if vote.abstained:
            yield f"- {vote.provider} ({how}) abstained: {vote.abstain_reason}."
            continue
        yield (
            f"- {vote.provider} ({how}, weight {weight:.2f}) voted {vote.action.value} at "
            f"confidence {vote.confidence:.2f}{cost}: {vote.reasoning}"
        )


def _quote(verdict: GateVerdict) -> str:
    q = verdict.quote
    return "" if q is None else f" against the quote {q.bid} / {q.ask} of {q.ts:%H:%M:%S}"


def _gate_line(verdict: GateVerdict) -> str:
    via = f" (approval {verdict.approval_id})" if verdict.approval_id else ""
    if verdict.synced:
        return (
            f"- {verdict.at:%Y-%m-%d %H:%M:%S} the venue filled order {verdict.client_order_id} "
            f"for {verdict.quantity} ({verdict.status}){_quote(verdict)}."
        )
    if verdict.duplicate:
        return f"- {verdict.at:%Y-%m-%d %H:%M:%S} already sent earlier{via}; not resent."
    if verdict.refused is not None:
        return f"- {verdict.at:%Y-%m-%d %H:%M:%S} refused{via}: {verdict.refused}"
    return (
        f"- {verdict.at:%Y-%m-%d %H:%M:%S} sent{via} order {verdict.client_order_id} for "
        f"{verdict.quantity} ({verdict.status}){_quote(verdict)}."
    )


def explain(trail: DecisionTrail) -> list[str]:
    """The trail as sentences: input, votes, aggregation, risk, gate, orders and fills."""
    d = trail.decision
    lines = [f"Decision {d.id} on {d.instrument} at {d.created_at:%Y-%m-%d %H:%M:%S} UTC."]
    lines += _snapshot_lines(trail)
    lines.append(f"Providers asked ({len(d.votes)}):")
    lines += _provider_lines(trail)
    verdict = trail.record.ensemble if trail.record else None
    if verdict is not None:
        lines.append(
            f"Ensemble ({verdict.aggregation}): {verdict.action.value} at confidence "
            f"{verdict.confidence:.2f}. {verdict.reasoning}"
        )
    else:
        lines.append(f"Ensemble ({d.aggregation}): {d.reasoning}")
    risk = d.risk
    if risk is None:
        lines.append("Risk: not checked.")
    else:
        state = "approved" if risk.approved else "rejected"
        size = f" size {risk.size}, notional {risk.notional}" if risk.approved else ""
        lines.append(f"Risk {state}:{size} ({risk.reason}).")
        lines += [f"- {name}: {value}" for name, value in risk.checks.items()]
    lines.append(f"Final: {d.action.value}, size {d.suggested_size}, price {d.reference_price}.")
    gate = trail.record.gate if trail.record else ()
    lines.append("Execution gate:" if gate else "Execution gate: the decision never reached it.")
    lines += [_gate_line(v) for v in gate]
    for order in trail.orders:
        lines.append(
            f"Order {order.client_order_id}: {order.side.value} {order.quantity} "
            f"{order.instrument}, {order.status.value}, filled {order.filled_quantity} at "
            f"{order.average_fill_price}."
        )
    for fill in trail.fills:
        lines.append(
            f"- fill {fill.fill_id}: {fill.side.value} {fill.quantity} at {fill.price} "
            f"(commission {fill.commission}) at {fill.ts:%Y-%m-%d %H:%M:%S}."
        )
    return lines


def describe_replay(report: ReplayReport) -> list[str]:
    """A replay's result in sentences: identical, or each difference, inputs then outputs."""
    r = report.replayed
    lines = [
        f"Replayed {report.decision_id}: {r.action.value} at confidence {r.confidence:.2f} "
        f"({r.aggregation})."
    ]
    if report.identical:
        return [*lines, "Identical to the recorded decision: same inputs, same verdict."]
    if report.inputs_changed:
        lines.append("Changed since the decision:")
        lines += [f"- {d.what}: {d.recorded} -> {d.now}" for d in report.inputs_changed]
    if report.outputs_changed:
        lines.append("Verdict differs:")
        lines += [f"- {d.what}: {d.recorded} -> {d.now}" for d in report.outputs_changed]
    else:
        lines.append("The verdict is the same.")
    return lines
