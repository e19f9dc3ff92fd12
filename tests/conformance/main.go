// Command conformance is vexil's differential conformance test against GO
// Feature Flag's own Go module. See README.md, "Where vexil differs from
// GOFF", and tests/conformance/known_differences.yaml.
package main

import (
	"fmt"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "goff":
		err = cmdGoff(os.Args[2:])
	case "gen":
		err = cmdGen(os.Args[2:])
	case "run":
		err = cmdRun(os.Args[2:])
	case "readme":
		err = cmdReadme(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, `usage:
  conformance run -vexil RUNNER [-jsonlogic310 HELPER] [-seed N] [-files N] [-work DIR] [-known FILE] [-readme FILE]
      generate cases, evaluate them with GOFF and vexil, compare, check the known differences
  conformance gen -seed N -files N -out DIR     write flag files and DIR/cases.jsonl
  conformance goff CASES OUT                    evaluate cases with GOFF
  conformance readme [-known FILE] [-readme FILE] [-stats STATS.json] [-write]
      check (or rewrite) README's "Where vexil differs from GOFF" section`)
	os.Exit(2)
}

func cmdGoff(args []string) error {
	if len(args) != 2 {
		usage()
	}
	cases, err := readLines[Case](args[0])
	if err != nil {
		return err
	}
	return writeLines(args[1], runGoff(cases, dirOf(args[0])))
}

func runGoff(cases []Case, dir string) []Result {
	o := newGoffOracle(dir)
	defer o.close()
	out := make([]Result, len(cases))
	for i, c := range cases {
		out[i] = o.run(c)
	}
	return out
}
