"""Parquet files written by the file exporter, read back with pyarrow row for
row against the same events exported as JSON lines (the events recorded):
every codec, feature and tracking events, unicode, empty strings, nulls, big
values, metadata maps, batches across row groups and pages; and against
files GOFF itself wrote for the same events (tests/python/data/goff_parquet,
made once by gen/main.go there)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

pq = pytest.importorskip("pyarrow.parquet")

import vexil  # noqa: E402
from conftest import FLAGS  # noqa: E402

DATA = Path(__file__).parent / "data" / "goff_parquet"
CODECS = ["UNCOMPRESSED", "SNAPPY", "GZIP", "ZSTD"]
BIG = "x" * (3 << 20)

SCENARIO_FLAGS: dict[str, Any] = {
    **FLAGS,
    "unicode-flag": {
        "variations": {"é☃": "naïve ☃ 日本語 \U0001f680", "empty": ""},
        "defaultRule": {"variation": "é☃"},
        "version": "2.1",
    },
    "empty-flag": {"variations": {"e": ""}, "defaultRule": {"variation": "e"}},
    "big-flag": {"variations": {"big": BIG}, "defaultRule": {"variation": "big"}},
}


def parquet_files(d: Path) -> list[Path]:
    return sorted(d.glob("*.parquet"))


def json_events(d: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for f in sorted(d.glob("*.json"))
            for line in f.read_text(encoding="utf-8").splitlines()]


def as_map(m: dict[str, Any] | None) -> dict[str, Any]:
    """A JSON object as vexil's Parquet map holds it: strings as they are,
    other values JSON-encoded (read back here with json.loads)."""
    return dict(m or {})


def decode_map(pairs: list[tuple[str, str]], expected: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        out[k] = v if isinstance(expected.get(k), str) else json.loads(v)
    return out


def check_feature_rows(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    assert len(rows) == len(events)
    for row, ev in zip(rows, events):
        for key in ("kind", "userKey", "creationDate", "key", "variation", "default", "version",
                    "source"):
            assert row[key] == ev[key], key
        assert row["contextKind"] == ev.get("contextKind", "user")
        assert json.loads(row["value"]) == ev["value"]
        meta = as_map(ev.get("metadata"))
        assert [k for k, _ in row["metadata"]] == sorted(meta)  # Go's key order
        assert decode_map(row["metadata"], meta) == meta


def check_tracking_rows(rows: list[dict[str, Any]], events: list[dict[str, Any]]) -> None:
    assert len(rows) == len(events)
    for row, ev in zip(rows, events):
        for key in ("kind", "contextKind", "userKey", "creationDate", "key"):
            assert row[key] == ev[key], key
        for col, key in (("evaluationContext", "evaluationContext"),
                         ("trackingEventDetails", "trackingEventDetails")):
            expected = as_map(ev[key])
            assert [k for k, _ in row[col]] == sorted(expected)
            assert decode_map(row[col], expected) == expected


def read_rows(files: list[Path]) -> list[dict[str, Any]]:
    return [r for f in files for r in pq.read_table(f).to_pylist()]


def feature_scenario(e: vexil.Engine) -> None:
    """Evaluations whose events cover every value type, unicode and empty
    strings, null values, a 3 MiB value and metadata of every JSON type."""
    e.set_exporter_metadata({"team": "a", "n": 1.5, "on": True, "none": None,
                             "nested": {"x": [1, "é"]}, "": "empty key"})
    ctxs = [{"targetingKey": "ABCD", "anonymous": True}, {"targetingKey": "é☃-user"},
            {"targetingKey": ""}, {"targetingKey": "u" * 1000, "plan": "pro"}]
    for ctx in ctxs:
        e.bool_value("static-flag", False, ctx)
        e.string_value("string-rule", "none", ctx)
        e.string_value("unicode-flag", "", ctx)
        e.string_value("empty-flag", "d", ctx)
        e.object_value("missing-object", None, ctx)  # a null value
        e.int_value("int-flag", 0, ctx)
        e.float_value("float-flag", 0.0, ctx)
        e.object_value("object-flag", {}, ctx)
        e.bool_value("missing-flag", True, ctx)
        e.bool_value("disabled-flag", False, ctx)
    e.string_value("big-flag", "", {"targetingKey": "big"})


@pytest.mark.parametrize("codec", CODECS + ["zstd"])
def test_feature_events_every_codec(tmp_path, codec):
    e = vexil.Engine(SCENARIO_FLAGS)
    e.add_exporter(vexil.FileExporter(tmp_path, format="parquet", parquet_compression_codec=codec))
    e.add_exporter(vexil.FileExporter(tmp_path))
    feature_scenario(e)
    assert e.close(timeout=10.0)
    (f,) = parquet_files(tmp_path)
    assert f.name.startswith("flag-variation-")
    meta = pq.ParquetFile(f).metadata
    assert meta.row_group(0).column(0).compression == codec.upper()
    events = json_events(tmp_path)
    assert len(events) == 41
    rows = read_rows([f])
    check_feature_rows(rows, events)
    # The exact bytes GOFF's ConvertValueForParquet writes.
    assert rows[2]["value"] == '"naïve ☃ 日本語 \U0001f680"'
    assert rows[3]["value"] == '""' and rows[4]["value"] == "null"
    assert rows[-1]["value"] == json.dumps(BIG)
    assert dict(rows[0]["metadata"])["n"] == "1.5"
    assert dict(rows[0]["metadata"])["nested"] == '{"x":[1,"é"]}'
    assert dict(rows[0]["metadata"])["none"] == "null"


def track_scenario(e: vexil.Engine) -> None:
    ctx = {"targetingKey": "u1", "country": "fr", "age": 42, "tags": ["a", "é"], "empty": ""}
    e.track("clicked", ctx, {"page": "home", "n": 3, "ok": False, "nested": {"a": None}})
    e.track("viewed", {"targetingKey": "☃", "anonymous": True})
    e.track("", {"targetingKey": ""}, {"": ""})


@pytest.mark.parametrize("codec", CODECS)
def test_tracking_events(tmp_path, codec):
    e = vexil.Engine(FLAGS)
    e.add_exporter(vexil.FileExporter(tmp_path, format="parquet", parquet_compression_codec=codec),
                   event_type="tracking")
    e.add_exporter(vexil.FileExporter(tmp_path), event_type="tracking")
    track_scenario(e)
    assert e.close(timeout=10.0)
    (f,) = parquet_files(tmp_path)
    events = json_events(tmp_path)
    assert len(events) == 3
    rows = read_rows([f])
    check_tracking_rows(rows, events)
    assert rows[1]["trackingEventDetails"] == []  # no details: an empty map
    assert dict(rows[0]["trackingEventDetails"])["nested"] == '{"a":null}'


def test_large_batch_across_row_groups_and_pages(tmp_path):
    """130000 events in one flush: two row groups (122880 rows each at most),
    pages of 20000 rows."""
    e = vexil.Engine(FLAGS)
    opts = {"max_events": 200_000, "max_batch_events": 200_000}
    e.add_exporter(vexil.FileExporter(tmp_path, format="parquet"), **opts)
    e.add_exporter(vexil.FileExporter(tmp_path), **opts)
    e.set_exporter_metadata({"k": "v"})
    for i in range(130_000):
        e.string_value("split", "d", {"targetingKey": f"user-{i}"})
    assert e.close(timeout=60.0)
    (f,) = parquet_files(tmp_path)
    meta = pq.ParquetFile(f).metadata
    assert meta.num_rows == 130_000
    assert [meta.row_group(i).num_rows for i in range(meta.num_row_groups)] == [122_880, 7_120]
    table = pq.read_table(f)
    events = json_events(tmp_path)
    assert table.column("userKey").to_pylist() == [ev["userKey"] for ev in events]
    assert table.column("value").to_pylist() == [json.dumps(ev["value"]) for ev in events]
    assert table.column("creationDate").to_pylist() == [ev["creationDate"] for ev in events]
    check_feature_rows(table.slice(122_870, 20).to_pylist(), events[122_870:122_890])


def test_two_flushes_never_overwrite(tmp_path):
    """GOFF names both flushes alike and the second overwrites the first;
    vexil puts a counter before the extension."""
    e = vexil.Engine(FLAGS)
    e.add_exporter(vexil.FileExporter(tmp_path, format="parquet",
                                      filename="events.{{ .Format}}"))
    for batch in range(3):
        for i in range(5):
            e.string_value("split", "d", {"targetingKey": f"b{batch}-{i}"})
        assert e.flush(timeout=5.0)
    assert e.close(timeout=5.0)
    names = [f.name for f in parquet_files(tmp_path)]
    assert names == ["events-1.parquet", "events-2.parquet", "events.parquet"]
    users = [r["userKey"] for n in ("events.parquet", "events-1.parquet", "events-2.parquet")
             for r in pq.read_table(tmp_path / n).to_pylist()]
    assert users == [f"b{b}-{i}" for b in range(3) for i in range(5)]


def test_unknown_codec_is_an_error(tmp_path):
    e = vexil.Engine(FLAGS)
    for bad in ("LZO", "BROTLI", "LZ4", "fast"):
        with pytest.raises(ValueError, match="parquetCompressionCodec"):
            e.add_exporter(vexil.FileExporter(tmp_path, format="parquet",
                                              parquet_compression_codec=bad))
    e.close()


# ---- Against GOFF's own files ---------------------------------------------------

def goff_feature_scenario(e: vexil.Engine) -> None:
    """Events GOFF can write too: string-valued maps only (GOFF writes
    "<float64 Value>" for a number in a map)."""
    e.set_exporter_metadata({"team": "a", "env": "prod"})
    for ctx in ({"targetingKey": "ABCD", "anonymous": True}, {"targetingKey": "é☃-user"},
                {"targetingKey": "", "plan": "pro"}):
        e.bool_value("static-flag", False, ctx)
        e.string_value("string-rule", "none", ctx)
        e.string_value("unicode-flag", "", ctx)
        e.int_value("int-flag", 0, ctx)
        e.object_value("object-flag", {}, ctx)
        e.bool_value("missing-flag", True, ctx)


def goff_tracking_scenario(e: vexil.Engine) -> None:
    e.track("clicked", {"targetingKey": "u1", "country": "fr"}, {"page": "home"})
    e.track("viewed", {"targetingKey": "é☃", "plan": "pro", "team": "é"}, {"": ""})


def run_goff_scenario(tmp_path: Path, kind: str) -> tuple[Path, list[dict[str, Any]]]:
    e = vexil.Engine(SCENARIO_FLAGS)
    e.add_exporter(vexil.FileExporter(tmp_path, format="parquet"), event_type=kind)
    e.add_exporter(vexil.FileExporter(tmp_path), event_type=kind)
    (goff_feature_scenario if kind == "feature" else goff_tracking_scenario)(e)
    assert e.close(timeout=5.0)
    (f,) = parquet_files(tmp_path)
    return f, json_events(tmp_path)


def comparable(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows without the clock (creationDate) and with map entries sorted (Go
    writes a map in its random iteration order)."""
    out = []
    for r in rows:
        r = {k: sorted(v) if isinstance(v, list) else v for k, v in r.items()}
        r.pop("creationDate")
        out.append(r)
    return out


@pytest.mark.parametrize("kind", ["feature", "tracking"])
def test_same_schema_and_rows_as_goff(tmp_path, kind):
    mine, events = run_goff_scenario(tmp_path, kind)
    goff = DATA / f"goff_{kind}.parquet"
    # The events GOFF was given are the ones this scenario records.
    recorded = [json.loads(x) for x in (DATA / f"{kind}.jsonl").read_text("utf-8").splitlines()]
    for ev in recorded + events:
        ev.pop("creationDate")
    assert events == recorded
    mine_file, goff_file = pq.ParquetFile(mine), pq.ParquetFile(goff)
    assert mine_file.schema_arrow.equals(goff_file.schema_arrow, check_metadata=True)
    assert mine_file.schema.equals(goff_file.schema)  # Parquet's own schema, names and all
    assert comparable(read_rows([mine])) == comparable(read_rows([goff]))


def write_goff_inputs(out: Path) -> None:  # pragma: no cover - run by hand, see gen/main.go
    """Writes feature.jsonl and tracking.jsonl, the events given to GOFF."""
    import tempfile
    for kind in ("feature", "tracking"):
        with tempfile.TemporaryDirectory() as d:
            e = vexil.Engine(SCENARIO_FLAGS)
            e.add_exporter(vexil.FileExporter(d), event_type=kind)
            (goff_feature_scenario if kind == "feature" else goff_tracking_scenario)(e)
            e.close(timeout=5.0)
            (f,) = Path(d).glob("*.json")
            (out / f"{kind}.jsonl").write_bytes(f.read_bytes())


if __name__ == "__main__":  # pragma: no cover
    write_goff_inputs(DATA)
