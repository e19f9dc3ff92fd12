"""Use vexil as an OpenFeature provider (pip install '.[openfeature]').

    python examples/python/openfeature_provider.py
"""

from openfeature import api
from openfeature.evaluation_context import EvaluationContext
from openfeature.event import ProviderEvent

import vexil
from vexil.openfeature import VexilProvider

FLAGS = {
    "welcome-message": {
        "variations": {"formal": "Good morning.", "casual": "Hey!"},
        "targeting": [{"query": 'plan eq "pro"', "variation": "formal"}],
        "defaultRule": {"variation": "casual"},
    },
    "max-items": {"variations": {"few": 10, "many": 100}, "defaultRule": {"variation": "few"}},
}

engine = vexil.Engine(FLAGS)
api.set_provider_and_wait(VexilProvider(engine))
client = api.get_client("shop")

client.add_handler(ProviderEvent.PROVIDER_CONFIGURATION_CHANGED,
                   lambda details: print("flags changed:", details.flags_changed))

ctx = EvaluationContext(targeting_key="user-1", attributes={"plan": "pro"})
print(client.get_string_value("welcome-message", "Hello.", ctx))
print(client.get_integer_details("max-items", 1, ctx))
print(client.get_float_details("max-items", 1.0, ctx).value)   # an int flag read as float

# Reloading the engine emits PROVIDER_CONFIGURATION_CHANGED with the changed keys.
FLAGS["max-items"]["defaultRule"] = {"variation": "many"}
engine.load(FLAGS)
print(client.get_integer_value("max-items", 1, ctx))

client.track("checkout", ctx)
api.shutdown()   # closes the engine, delivering pending events
