"""One check of what a client sends to the page's events and API endpoints, before Gradio reads it.

Gradio hands a queued request's values to each input component and prints a traceback for
every value a component cannot read (an int where the chat expects a list, a string for an
example's index), then answers the client `"error": null`. Every value is held here against the
JSON schema Gradio itself publishes for that input (`api_info_as_input`), so a malformed request
gets a clear refusal and the log stays quiet. Missing trailing values are sent as null (the
endpoint's own default or "empty" message applies), and text is cut just past the question limit.
"""
from __future__ import annotations

import json

_JSON_TYPES = {"string": (str,), "integer": (int,), "number": (int, float), "boolean": (bool,),
               "array": (list,), "object": (dict,)}


def _fits(value, schema: dict | None, samples: int | None) -> bool:
    if value is None or not schema:  # null is every input's "nothing"; State has no schema
        return True
    wanted = schema.get("type")
    if isinstance(wanted, str) and wanted in _JSON_TYPES:
        if not isinstance(value, _JSON_TYPES[wanted]) or (wanted in ("integer", "number") and isinstance(value, bool)):
            return False
    if "enum" in schema and value not in schema["enum"]:
        return False
    return samples is None or 0 <= value < samples  # an example's index must name one


class PayloadCheck:
    """Built from a Blocks config: for each event (fn_index) and API name, its inputs' schemas."""

    def __init__(self, config: dict, parameters: dict[str, tuple[str, ...]] | None = None,
                 text_limit: int | None = None) -> None:
        # The public endpoints' parameter names, in order, for /call/v2/NAME (values by name).
        self.parameters = parameters or {}
        # Text values are cut to one character over the question limit: the pipeline still sees
        # (and says) that the question was cut, and Gradio, which keeps each session's last input
        # values (10,000 sessions; every API call is one), keeps no more than that.
        self.text_limit = None if text_limit is None else text_limit + 1
        components = {c["id"]: c for c in config.get("components", [])}

        def schema(component_id):
            c = components.get(component_id, {})
            samples = c.get("props", {}).get("samples") if c.get("type") == "dataset" else None
            return c.get("api_info_as_input"), (len(samples) if samples is not None else None)

        self.by_index = {d["id"]: [schema(i) for i in d["inputs"]] for d in config.get("dependencies", [])}
        # /call/NAME takes the values of the inputs a client sees: a State's is the server's own.
        self.by_name = {d["api_name"]: [(s, n) for s, n in self.by_index[d["id"]] if s is not None]
                        for d in config.get("dependencies", []) if d.get("api_name")}

    def checked(self, path: str, body: bytes) -> tuple[bytes | None, str]:
        """(the body to hand on, "") when it fits its event, else (None, why)."""
        if not path.startswith("/gradio_api/queue/join") and not path.startswith("/gradio_api/call/"):
            return body, ""
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return None, "the request is not valid JSON"
        if not isinstance(payload, dict):
            return None, "the request is not a JSON object"
        if path.startswith("/gradio_api/call/v2/"):  # values by parameter name
            name = path.removeprefix("/gradio_api/call/v2/").strip("/")
            if name not in self.parameters:
                return None, "no such endpoint"
            unknown = sorted(set(payload) - set(self.parameters[name]))
            if unknown:
                return None, f"no parameter {unknown[0][:40]!r}; {name} takes {', '.join(self.parameters[name])}"
            for key, (schema, samples) in zip(self.parameters[name], self.by_name[name]):
                if not _fits(payload.get(key), schema, samples):
                    return None, f"{key} must be {schema.get('type', 'another value')}, not {type(payload[key]).__name__}"
            # Every parameter named (left-out ones as null): Gradio raises on a missing one.
            return json.dumps({key: self._cut(payload.get(key)) for key in self.parameters[name]}).encode(), ""
        if path.startswith("/gradio_api/call/"):
            inputs = self.by_name.get(path.removeprefix("/gradio_api/call/").strip("/"))
        else:
            index = payload.get("fn_index")
            inputs = self.by_index.get(index) if isinstance(index, int) and not isinstance(index, bool) else None
        if inputs is None:
            return None, "no such event or endpoint"
        data = payload.get("data", [])
        if not isinstance(data, list):
            return None, '"data" must be a list of the inputs\' values'
        if len(data) > len(inputs):
            return None, f"{len(data)} values sent, {len(inputs)} expected"
        for number, (value, (schema, samples)) in enumerate(zip(data, inputs), start=1):
            if not _fits(value, schema, samples):
                kind = (schema or {}).get("type", "another value")
                return None, f"value {number} must be {kind}, not {type(value).__name__}"
        cut = [self._cut(value) for value in data] + [None] * (len(inputs) - len(data))
        if cut != data:
            return json.dumps({**payload, "data": cut}).encode(), ""
        return body, ""

    def _cut(self, value):
        if isinstance(value, str) and self.text_limit is not None and len(value) > self.text_limit:
            return value[:self.text_limit]
        return value
