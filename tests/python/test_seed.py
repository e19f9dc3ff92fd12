"""The seed example (seeds/004): the from-env provider tutorial, its flag
AM_I_YELLOW set the way the Go program sets it, and its three evaluations with
the exact console output of the tutorial."""

import json

import pytest

import vexil

# What json.Marshal(fromEnv.StoredFlag{...}) writes: the variants under the
# "variant" tag, criteria as {"key", "value"} objects.
AM_I_YELLOW = json.dumps({
    "defaultVariant": "not-yellow",
    "variant": [
        {"criteria": [{"key": "color", "value": "yellow"}], "targetingKey": "user",
         "value": True, "name": "yellow-with-targeting"},
        {"criteria": [{"key": "color", "value": "yellow"}], "targetingKey": "",
         "value": True, "name": "yellow"},
        {"criteria": [{"key": "color", "value": "not yellow"}], "targetingKey": "",
         "value": False, "name": "not-yellow"},
    ],
}, separators=(",", ":"))


@pytest.fixture
def env_engine(monkeypatch):
    monkeypatch.setenv("AM_I_YELLOW", AM_I_YELLOW)
    e = vexil.Engine.from_env()
    yield e
    e.close()


def test_i_am_yellow(env_engine):
    d = env_engine.bool_details("AM_I_YELLOW", False, {"targetingKey": "", "color": "yellow"})
    assert (d.value, d.variant, d.reason) == (True, "yellow", "TARGETING_MATCH")
    assert d.error_code is None


def test_i_am_yellow_with_targeting(env_engine):
    d = env_engine.bool_details("AM_I_YELLOW", False, vexil.Context("user", color="yellow"))
    assert (d.value, d.variant, d.reason) == (True, "yellow-with-targeting", "TARGETING_MATCH")


def test_asking_for_a_string(env_engine):
    d = env_engine.string_details("AM_I_YELLOW", "i am a default value",
                                  {"targetingKey": "", "color": "not yellow"})
    assert d.value == "i am a default value"
    assert d.reason == vexil.Reason.ERROR
    assert d.error_code == "TYPE_MISMATCH"


def test_from_env_reads_the_environment_at_evaluation(env_engine, monkeypatch):
    assert env_engine.bool_details("NOT_SET_ANYWHERE", True).error_code == "FLAG_NOT_FOUND"
    monkeypatch.setenv("NOT_SET_ANYWHERE", "{not json")
    assert env_engine.bool_details("NOT_SET_ANYWHERE", True).error_code == "PARSE_ERROR"
    d = env_engine.bool_details("AM_I_YELLOW", True, {"color": "blue"})
    assert (d.value, d.variant, d.reason) == (False, "not-yellow", "DEFAULT")
