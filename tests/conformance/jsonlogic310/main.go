// Command jsonlogic310 evaluates JsonLogic queries with
// github.com/diegoholiveira/jsonlogic/v3 v3.10.1, the version GOFF's main
// branch uses (modules/core/go.mod), while GOFF v1.52.1 brings v3.9.0. The
// conformance tool asks it whether a difference comes from that upgrade.
// It reads {"query": "...", "data": {...}} lines and writes one line each:
// true, false (GOFF's truthiness of the result) or error.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"

	"github.com/diegoholiveira/jsonlogic/v3"
)

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for in.Scan() {
		var req struct {
			Query string          `json:"query"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintln(out, "error")
			continue
		}
		fmt.Fprintln(out, apply(req.Query, req.Data))
	}
}

func apply(query string, data []byte) (res string) {
	defer func() {
		if recover() != nil {
			res = "error"
		}
	}()
	var b bytes.Buffer
	if err := jsonlogic.Apply(strings.NewReader(query), bytes.NewReader(data), &b); err != nil {
		return "error"
	}
	switch strings.TrimSpace(b.String()) {
	case "false", "null", `""`, "0", "[]":
		return "false"
	}
	return "true"
}
