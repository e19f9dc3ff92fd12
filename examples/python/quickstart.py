"""Evaluate GO Feature Flag flags from Python with vexil.

    pip install .            # from the repository root
    python examples/python/quickstart.py
"""

import vexil

FLAGS = """
new-checkout:
  variations:
    enabled: true
    disabled: false
  targeting:
    - name: beta testers
      query: beta eq true
      variation: enabled
  defaultRule:
    percentage:
      enabled: 20
      disabled: 80

banner-color:
  variations:
    red: "#ff0000"
    blue: "#0000ff"
  targeting:
    - query: email ew "@example.com"
      variation: blue
  defaultRule:
    variation: red
"""

with vexil.Engine(FLAGS) as engine:
    # A plain dict works everywhere; only the attributes a flag reads are looked at.
    user = {"targetingKey": "user-42", "email": "ada@example.com", "beta": False}
    print("new-checkout:", engine.bool_value("new-checkout", False, user))
    print("banner-color:", engine.string_value("banner-color", "#000000", user))

    # A Context is converted once: faster when the same user is evaluated often.
    beta = vexil.Context("user-7", beta=True)
    details = engine.bool_details("new-checkout", False, beta)
    print(f"beta user: value={details.value} variant={details.variant} reason={details.reason} "
          f"rule={details.flag_metadata.get('evaluatedRuleName')}")

    # Errors are results, not exceptions: the default comes back with a reason.
    missing = engine.string_details("no-such-flag", "fallback", user)
    print(f"missing flag: value={missing.value!r} reason={missing.reason} code={missing.error_code}")

    # A bad reload raises ConfigError and keeps the last good configuration.
    try:
        engine.load("new-checkout: [unclosed")
    except vexil.ConfigError as exc:
        print(f"reload refused ({exc.status}, line {exc.line}); still serving:",
              engine.flags())
