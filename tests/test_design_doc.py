"""docs/design.md is true of the code: the JSON the CLI prints, its flags, the variables it
reads and the benchmark files it accepts, each compared with what the page says."""
import json
import os
import re
import subprocess
import sys

import pytest

from tests.conftest import CORPUS, ROOT
from tests.design_doc import example, optional_keys, section


@pytest.fixture(scope="module")
def cli(tmp_path_factory):
    """`python -m rag` model-free on the seed corpus, one index shared by the module's commands."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WARTA_") or k == "WARTA_MODEL_CACHE"}
    env |= {"HF_HUB_OFFLINE": "1", "WARTA_CORPUS_DIR": str(CORPUS), "WARTA_EMBEDDING_MODEL": "none",
            "WARTA_GENERATOR_MODEL": "none", "WARTA_INDEX_DIR": str(tmp_path_factory.mktemp("design") / "index")}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "rag", *args], cwd=ROOT, capture_output=True, text=True,
                              env=env, timeout=300)
    return run


def _json(out) -> dict:
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def _same_keys(real: dict, documented: dict, optional: set = frozenset(), what: str = "") -> None:
    """Every key printed is documented, and every documented key is printed unless optional."""
    undocumented, missing = set(real) - set(documented), set(documented) - set(real) - set(optional)
    assert not undocumented, f"{what}: keys docs/design.md does not list: {undocumented}"
    assert not missing, f"{what}: keys docs/design.md lists that are not printed: {missing}"


def _same_passages(real: dict, documented: dict, title: str) -> None:
    _same_keys(real["mode"], documented["mode"], what=f"{title} mode")
    _same_keys(real["passages"][0], documented["passages"][0], what=f"{title} passage")
    _same_keys(real["passages"][0]["scores"]["lexical"], documented["passages"][0]["scores"]["lexical"],
               what=f"{title} passage scores")
    assert "total" in real["timings_ms"] and set(real["timings_ms"]) <= set(documented["timings_ms"]), title


def test_search_json_is_as_documented(cli):
    real, documented = _json(cli("search", "Apa itu Biotown?", "--json")), example("search --json")
    _same_keys(real, documented, optional_keys("search --json"), "search --json")
    _same_passages(real, documented, "search --json")


def test_ask_json_is_as_documented(cli):
    real, documented = _json(cli("ask", "Siapa Direktur Hebei MPA?", "--json")), example("ask --json")
    assert not real["abstained"] and real["citations"]
    _same_keys(real, documented, optional_keys("ask --json"), "ask --json")
    _same_passages(real, documented, "ask --json")
    _same_keys(real["citations"][0], documented["citations"][0], what="ask --json citation")


def test_check_json_is_as_documented(cli):
    real = _json(cli("check", "MiLab projects annual exports of 12 million units by 2030", "--json"))
    documented = example("check --json")
    assert real["verdict"] == "contradicted" and real["differences"]
    _same_keys(real, documented, optional_keys("check --json"), "check --json")
    _same_keys(real["mode"], documented["mode"], what="check --json mode")
    _same_keys(real["evidence"][0], documented["evidence"][0], what="check --json evidence")
    _same_keys(real["differences"][0], documented["differences"][0], what="check --json differences")
    assert set(real["timings_ms"]) <= set(documented["timings_ms"])


def test_batch_lines_are_as_documented(cli, tmp_path):
    batch = tmp_path / "questions.jsonl"
    batch.write_text('{"id": "q1", "question": "Siapa Direktur Hebei MPA?"}\n{"id": "q2"}\n', encoding="utf-8")
    out = cli("ask", "--batch", str(batch))  # JSON lines without --json too
    assert out.returncode == 1  # a line could not be read
    answer, error = map(json.loads, out.stdout.splitlines())
    _same_keys(answer, example("ask --json"), optional_keys("ask --json"), "ask --batch line")
    _same_keys(error, example("Batch lines"), what="batch error line")
    assert answer["id"] == "q1" and error["id"] == "q2" and error["line"] == 2


def _shown_flags() -> dict[str, set[str]]:
    """Command ("rag ask", "eval.run", "app.py") -> the flags its lines in "Command line" show; a
    line opening with spaces goes on with the command above, and a description follows 3 spaces."""
    block = re.search(r"```\n(.*?)```", section("Command line"), re.S).group(1)
    shown, command = {}, None
    for line in block.splitlines():
        match = re.match(r"python (?:-m )?(rag \w+|\S+)", line)
        command = match.group(1) if match else command
        shown.setdefault(command, set()).update(re.findall(r"--[a-z-]+", line.strip().split("   ")[0]))
    return shown


def _options(parser) -> set[str]:
    return {flag for action in parser._actions for flag in action.option_strings if flag not in ("-h", "--help")}


def test_command_lines_name_real_commands_and_every_flag():
    from eval.run import _parser as eval_parser
    from rag.__main__ import _parser as rag_parser

    rag = rag_parser()
    subcommands = next(a for a in rag._actions if isinstance(a.choices, dict)).choices
    parsers = {f"rag {name}": parser for name, parser in subcommands.items()} | {"eval.run": eval_parser()}
    shown, text = _shown_flags(), section("Command line")
    assert {c for c in shown if c.startswith("rag ")} == {c for c in parsers if c.startswith("rag ")}
    for name, parser in parsers.items():
        wrong = shown[name] - _options(parser)
        assert not wrong, f"{name}: flags docs/design.md shows that it does not take: {wrong}"
        unnamed = {flag for flag in _options(parser) if flag not in text}
        assert not unnamed, f"{name}: flags docs/design.md does not name: {unnamed}"


def test_every_variable_named_is_read():
    source = "".join(p.read_text(encoding="utf-8") for p in (ROOT / "rag").rglob("*.py"))
    named = set(re.findall(r"WARTA_[A-Z_]+", (ROOT / "docs" / "design.md").read_text(encoding="utf-8")))
    assert named and not {v for v in named if v not in source}


def test_benchmark_file_examples_load(tmp_path):
    from eval.datasets import load_claims, load_questions

    for title, load in (("questions.jsonl", load_questions), ("claims.jsonl", load_claims)):
        path = tmp_path / title
        path.write_text(json.dumps(example(title), ensure_ascii=False) + "\n", encoding="utf-8")
        assert len(load(path)) == 1
