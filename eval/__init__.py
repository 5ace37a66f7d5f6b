"""The QA benchmark: question and claim sets, metrics, runner, report (python -m eval.run)."""
