"""How fast flows are checked and compiled.

Writes 1,000 generated flows of 50 steps (every step kind, templates and guards) and one
flow of 500 steps to a temporary folder, then checks and compiles them through the path
that `parley check` and the engine share (`FlowCompiler.check_paths`). The figures are
printed beside a baseline measured in the same run: plain `yaml.load` with libyaml's
CSafeLoader of the same files. Targets: 1,000 flows under 5 s; 500 steps under 50 ms.
"""

from __future__ import annotations

import random
import tempfile
import time
from pathlib import Path

import yaml

from dsl.pipeline import FlowCompiler


def step_text(index: int, count: int, rng: random.Random) -> str:
    """One step of a generated flow; the last step ends it, the others move forward."""
    name, after, last = (
        f"s{index}",
        f"s{min(index + 1 + rng.randrange(2), count - 1)}",
        f"s{count - 1}",
    )
    if index == count - 1:
        return f"  {name}:\n    say: 'Bye {{{{ contact.display_name }}}}'\n    end: true\n"
    kind = rng.randrange(6)
    if kind == 0:
        return (
            f"  {name}:\n    say: 'Hi {{{{ contact.display_name }}}}, step {index}'\n"
            f"    buttons:\n      - {{label: 'Yes', goto: {after}}}\n"
            f"      - {{label: 'No', goto: {last}}}\n"
            f"    on: {{reply: {after}, timeout: {{after: 1d, goto: {last}}}}}\n"
        )
    if kind == 1:
        return (
            f"  {name}:\n    ask: 'Your email?'\n    expect: email\n    save: contact.email\n"
            f"    retries: 2\n    on: {{valid: {after}, invalid: {last}}}\n"
        )
    if kind == 2:
        return (
            f"  {name}:\n    branch:\n      - when: visitor.is_new and contact.email != null\n"
            f"        goto: {after}\n      - when: '\"vip\" in contact.tags'\n"
            f"        goto: {last}\n      - else: {after}\n"
        )
    if kind == 3:
        return f"  {name}:\n    wait: 2h\n    next: {after}\n"
    if kind == 4:
        return (
            f"  {name}:\n    do:\n      - tag: step-{index}\n"
            f"      - set: {{field: vars.n{index}, "
            f"value: '{{{{ len(contact.tags) + {index} }}}}'}}\n"
            f"    next: {after}\n"
        )
    return f"  {name}:\n    say: 'Thanks, {{{{ upper(contact.name) }}}}!'\n    next: {after}\n"


def flow_text(flow_id: str, steps: int, rng: random.Random) -> bytes:
    """A whole generated flow file."""
    head = (
        f"id: {flow_id}\ntrigger:\n  visitor_timeout:\n    after: 15m\n"
        "when: contact.channel == 'messenger'\nstart: s0\nsteps:\n"
    )
    return (head + "".join(step_text(i, steps, rng) for i in range(steps))).encode()


def write_flows(folder: Path, count: int, steps: int, rng: random.Random) -> list[Path]:
    """Write `count` generated flows into `folder`."""
    paths = [folder / f"flow-{i:04}.yaml" for i in range(count)]
    for index, path in enumerate(paths):
        path.write_bytes(flow_text(f"{folder.name}-{index}", steps, rng))
    return paths


def check_seconds(paths: list[Path]) -> float:
    """Seconds to check and compile `paths` together; every flow must compile."""
    started = time.perf_counter()
    report = FlowCompiler().check_paths(paths)
    elapsed = time.perf_counter() - started
    assert len(report.flows) == len(paths), report.diagnostics[:3]
    return elapsed


def yaml_seconds(paths: list[Path]) -> float:
    """Seconds for the baseline: read and `yaml.load` each file with libyaml."""
    started = time.perf_counter()
    for path in paths:
        yaml.load(path.read_bytes(), Loader=yaml.CSafeLoader)
    return time.perf_counter() - started


def main() -> None:
    """Print the figures."""
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        for name in ("warm", "many", "big"):
            (root / name).mkdir()
        warm = write_flows(root / "warm", 1, 50, rng)
        many = write_flows(root / "many", 1000, 50, rng)
        big = write_flows(root / "big", 1, 500, rng)
        setup = check_seconds(warm)  # builds the expression parser and the schema validator
        baseline = yaml_seconds(many)
        full = check_seconds(many)
        big_time = check_seconds(big)
    print(f"first use (parser and schema set-up, one 50-step flow): {setup * 1000:.0f} ms")
    print(f"1000 flows x 50 steps: check+compile {full:.2f} s ({1000 / full:,.0f} flows/s)")
    print(f"  baseline, yaml.load with libyaml of the same files: {baseline:.2f} s")
    print(f"  ratio check+compile / yaml load: {full / baseline:.1f}x")
    print(f"1 flow x 500 steps: check+compile {big_time * 1000:.1f} ms")
    verdict = {True: "met", False: "MISSED"}
    print(
        f"targets: 1000 flows < 5 s {verdict[full < 5]}; "
        f"500 steps < 50 ms {verdict[big_time < 0.05]}"
    )


if __name__ == "__main__":
    main()
