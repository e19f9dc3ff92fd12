#!/bin/bash
# Regenerates tests/c/data/golden/cases.txt, the expected results of the
# golden differential test (tests/c/test_cli.c), with GOFF's own core through
# the local oracle: ref/oracle/goff-oracle (not part of vexil; only needed to
# regenerate). Each case is a header line
#   @eval<TAB>FILE<TAB>TYPE<TAB>DEFAULT<TAB>CONTEXT     (vexil eval --all)
#   @flag<TAB>FILE<TAB>TYPE<TAB>DEFAULT<TAB>CONTEXT<TAB>KEY
#   @lint<TAB>FILE
# followed by the oracle's output lines.
set -euo pipefail
cd "$(dirname "$0")/golden"
ORACLE=${ORACLE:-/work/ref/oracle/goff-oracle}
out=cases.txt
: > $out
tab=$'\t'

eval_all() { # file contexts types...
    local f=$1 ctxs=$2; shift 2
    while IFS= read -r c; do
        for t in "$@"; do
            printf '@eval\t%s\t%s\t%s\t%s\n' "$f" "$t" null "$c" >> $out
            "$ORACLE" --config "$f" --all --type "$t" --context "$c" >> $out
        done
    done < "$ctxs"
}

eval_default() { # file type default context
    printf '@eval\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >> $out
    "$ORACLE" --config "$1" --all --type "$2" --default "$3" --context "$4" >> $out
}

eval_flag() { # file type default context key
    printf '@flag\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$5" >> $out
    "$ORACLE" --config "$1" --flag "$5" --type "$2" --default "$3" --context "$4" >> $out
}

lint() {
    printf '@lint\t%s\n' "$1" >> $out
    "$ORACLE" --config "$1" --lint >> $out
}

eval_all basic.json contexts.txt any bool string int float object
eval_all rollout.json contexts-rollout.txt any string
eval_all yamlish.yaml contexts-yaml.txt any bool string int float object
eval_all queries.json contexts-queries.txt any
eval_all queries.yaml contexts-queries.txt any
ctx='{"targetingKey":"user-1","gofeatureflag":{"currentDateTime":"2024-01-02T00:00:00Z"}}'
for f in basic.json rollout.json; do
    eval_default $f string '"dflt"' "$ctx"
    eval_default $f int 7 "$ctx"
    eval_default $f int 7.9 '{}'
    eval_default $f bool true "$ctx"
    eval_default $f float 1.5 '{}'
    eval_default $f object '{"d":[1,2]}' "$ctx"
    eval_default $f any '"any-default"' '{}'
done
eval_flag basic.json string '"dflt"' '{}' missing-flag
eval_flag basic.json int 3 '{"targetingKey":"x"}' missing-flag
eval_flag basic.json float 120.9 '{}' float-trunc
eval_flag basic.json int 0 '{}' float-trunc
for f in basic.json rollout.json invalid.json yamlish.yaml queries.json queries.yaml invalid.yaml; do
    lint $f
done
echo "wrote $(grep -c '^@' $out) cases to $PWD/$out"
