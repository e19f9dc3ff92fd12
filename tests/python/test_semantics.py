"""GOFF's evaluation semantics through the Python API (reference:
shared/reference/goff-semantics.md)."""

import pytest

import vexil
from vexil import ErrorCode, Reason


def test_percentage_bucket_my_flag(engine):
    # goff-semantics §3.3: "my-flag" + "user-key", A:50/B:50 -> A, SPLIT.
    d = engine.string_details("my-flag", "x", {"targetingKey": "user-key"})
    assert (d.value, d.variant, d.reason) == ("value_A", "A", Reason.SPLIT)


@pytest.mark.parametrize("key,split,expected", [
    ("userkey", {"C": 9, "B": 91}, "C"),
    ("userkey", {"C": 91, "B": 91}, "B"),
    ("randomUserID", {"D": 70, "C": 10, "B": 20}, "C"),
    ("96ac59e6-7492-436b-b15a-ba1d797d2423", {"D": 70, "C": 10, "B": 20}, "B"),
])
def test_percentage_worked_examples(key, split, expected):
    flags = {"flagname+": {"variations": {v: f"variation_{v}" for v in split},
                           "defaultRule": {"percentage": split}}}
    with vexil.Engine(flags) as e:
        d = e.string_details("flagname+", "", {"targetingKey": key})
        assert d.variant == expected and d.reason == "SPLIT"


def test_bucketing_key():
    flags = {"my-flag": {"variations": {"A": "a", "B": "b"}, "bucketingKey": "teamId",
                         "defaultRule": {"percentage": {"A": 33, "B": 67}}}}
    with vexil.Engine(flags) as e:
        assert e.string_value("my-flag", "", {"targetingKey": "user-key", "teamId": "team-123"}) == "b"
        d = e.string_details("my-flag", "", {"targetingKey": "user-key"})
        assert d.reason == "ERROR" and d.error_code == ErrorCode.TARGETING_KEY_MISSING


def test_targeting_match_split():
    flags = {"TEST": {"variations": {"enable": True, "disable": False},
                      "targeting": [{"query": 'key eq "random-key"',
                                     "percentage": {"enable": 90, "disable": 10}}],
                      "defaultRule": {"variation": "disable"}}}
    with vexil.Engine(flags) as e:
        d = e.bool_details("TEST", False, {"targetingKey": "random-key"})
        assert (d.value, d.variant, d.reason) == (True, "enable", "TARGETING_MATCH_SPLIT")


def test_static_default_and_targeting_match(engine):
    d = engine.bool_details("static-flag", False)
    assert (d.value, d.reason, d.version) == (True, "STATIC", "1.0")
    assert d.flag_metadata == {"description": "always on"}
    d = engine.string_details("string-rule", "", {"targetingKey": "u", "plan": "pro"})
    assert (d.value, d.variant, d.reason) == ("gold", "pro", "TARGETING_MATCH")
    assert d.flag_metadata["evaluatedRuleName"] == "pro users"
    assert d.rule_name == "pro users"
    d = engine.string_details("string-rule", "", {"targetingKey": "u", "plan": "free"})
    assert (d.value, d.reason) == ("bronze", "DEFAULT")


def test_disabled_returns_the_default(engine):
    d = engine.bool_details("disabled-flag", False, {"targetingKey": "u"})
    assert (d.value, d.variant, d.reason, d.error_code) == (False, "SdkDefault", "DISABLED", None)


def test_flag_not_found_and_type_mismatch(engine):
    d = engine.int_details("nope", 42)
    assert (d.value, d.reason, d.error_code) == (42, Reason.ERROR, ErrorCode.FLAG_NOT_FOUND)
    d = engine.bool_details("string-rule", True, {"targetingKey": "u"})
    assert (d.value, d.error_code) == (True, "TYPE_MISMATCH")
    d = engine.int_details("static-flag", 1)  # a bool is not an int
    assert (d.value, d.error_code) == (1, "TYPE_MISMATCH")


def test_empty_key_with_a_split_is_targeting_key_missing(engine):
    d = engine.string_details("split", "dflt", {"plan": "pro"})
    assert (d.value, d.error_code) == ("dflt", "TARGETING_KEY_MISSING")


def test_numbers_int_truncates_float_widens(engine):
    assert engine.int_value("int-flag", 0) == 120  # GOFF truncates 120.1
    v = engine.float_value("float-flag", 0.0)
    assert v == 3.0 and type(v) is float
    assert type(engine.float_value("nope", 2)) is float  # an int default becomes a float


def test_objects(engine):
    v = engine.object_value("object-flag", {})
    assert v == {"a": [1, 2.5, "s", None, True]}
    assert type(v["a"][0]) is int and type(v["a"][1]) is float
    default = {"fallback": True}
    assert engine.object_value("nope", default) is default


def test_default_identity_on_errors(engine):
    s = "some default"
    assert engine.string_value("nope", s) is s


def test_queries_nikunjy_and_jsonlogic():
    flags = {"q": {"variations": {"y": True, "n": False},
                   "targeting": [
                       {"query": 'email ew "@example.com" and age gt 18', "variation": "y"},
                       {"query": '{"in": [{"var": "country"}, ["FR", "DE"]]}', "variation": "y"}],
                   "defaultRule": {"variation": "n"}}}
    with vexil.Engine(flags) as e:
        assert e.bool_value("q", False, {"targetingKey": "u", "email": "a@example.com", "age": 30})
        assert not e.bool_value("q", True, {"targetingKey": "u", "email": "a@example.com", "age": 10})
        assert e.bool_value("q", False, {"targetingKey": "u", "country": "FR"})
        assert not e.bool_value("q", True, {"targetingKey": "u", "country": "US"})


def test_nested_attributes_and_arrays():
    flags = {"n": {"variations": {"y": True, "n": False},
                   "targeting": [{"query": 'company.name eq "acme"', "variation": "y"},
                                 {"query": '{"in": ["beta", {"var": "tags"}]}', "variation": "y"}],
                   "defaultRule": {"variation": "n"}}}
    with vexil.Engine(flags) as e:
        assert e.bool_value("n", False, {"targetingKey": "u", "company": {"name": "acme"}})
        assert e.bool_value("n", False, {"targetingKey": "u", "tags": ["alpha", "beta"]})
        assert e.bool_value("n", False, vexil.Context("u", tags=("beta",)))
        assert not e.bool_value("n", True, {"targetingKey": "u", "tags": []})


def test_progressive_rollout_with_current_date_time():
    flags = {"progressive-flag": {
        "variations": {"initial": "i", "end": "e"},
        "defaultRule": {"progressiveRollout": {
            "initial": {"variation": "initial", "percentage": 0, "date": "2024-01-01T00:00:00Z"},
            "end": {"variation": "end", "percentage": 100, "date": "2024-01-05T00:00:00Z"}}}}}
    import datetime as dt
    when = dt.datetime(2024, 1, 2, tzinfo=dt.timezone.utc)
    with vexil.Engine(flags) as e:
        for key, want in (("user-2", "e"), ("user-3", "i"), ("user-1", "i")):
            ctx = {"targetingKey": key, "gofeatureflag": {"currentDateTime": when}}
            d = e.string_details("progressive-flag", "", ctx)
            assert d.value == want, key
            assert d.reason == "SPLIT"


def test_enrichment_overrides_and_environment():
    flags = {"f": {"variations": {"y": True, "n": False},
                   "targeting": [{"query": 'env eq "prod" and plan eq "pro"', "variation": "y"}],
                   "defaultRule": {"variation": "n"}}}
    with vexil.Engine(flags, environment="prod", enrichment={"plan": "pro"}) as e:
        assert e.bool_value("f", False, {"targetingKey": "u", "plan": "free"})
        e.set_environment("dev")
        assert not e.bool_value("f", True, {"targetingKey": "u"})
        e.set_environment(None)
        e.set_enrichment(None)


def test_yaml_text_and_files(tmp_path):
    text = "f:\n  variations:\n    a: 1\n    b: 2\n  defaultRule:\n    variation: a\n"
    with vexil.Engine(text) as e:
        assert e.int_value("f", 0) == 1
    p = tmp_path / "flags.yml"
    p.write_text(text)
    with vexil.Engine.from_file(p) as e:
        assert e.int_value("f", 0) == 1 and e.flags() == ["f"]
    j = tmp_path / "flags.txt"
    j.write_text('{"f": {"variations": {"a": "x"}, "defaultRule": {"variation": "a"}}}')
    with vexil.Engine.from_file(str(j), format="json") as e:
        assert e.string_value("f", "") == "x"


def test_invalid_flags_are_dropped_and_reported():
    flags = {"good": {"variations": {"a": 1}, "defaultRule": {"variation": "a"}},
             "bad": {"variations": {"a": 1}, "defaultRule": {"variation": "zzz"}}}
    with vexil.Engine(flags) as e:
        assert e.flags() == ["good"]
        assert e.invalid_flags() == {"bad": "invalid variation: zzz does not exist"}
        assert e.int_details("bad", 0).error_code == "FLAG_NOT_FOUND"


def test_load_keeps_the_last_good_config(engine):
    with pytest.raises(vexil.ConfigError) as info:
        engine.load("a: [1, 2\nb: {")
    assert info.value.line > 0 and info.value.status == "VX_EPARSE"
    assert engine.bool_value("static-flag", False) is True
    engine.load({"only": {"variations": {"a": "x"}, "defaultRule": {"variation": "a"}}})
    assert engine.flags() == ["only"]
    with pytest.raises(vexil.ConfigError):
        engine.load("[1, 2, 3]")
    with pytest.raises(vexil.ConfigError) as info:
        engine.load_file("/nonexistent/flags.yaml")
    assert info.value.status == "VX_EIO"
    assert engine.flags() == ["only"]
