package main

// Writing generated flags as JSON or YAML text, keys in insertion order.

import (
	"bytes"
	"encoding/json"
	"sort"
	"strconv"

	"gopkg.in/yaml.v3"
)

func toJSON(v any) []byte {
	var b bytes.Buffer
	writeJSON(&b, v, "")
	b.WriteByte('\n')
	return b.Bytes()
}

func writeJSON(b *bytes.Buffer, v any, indent string) {
	inner := indent + "  "
	switch x := v.(type) {
	case *omap:
		if len(x.keys) == 0 {
			b.WriteString("{}")
			return
		}
		b.WriteString("{\n")
		for i, k := range x.keys {
			b.WriteString(inner)
			kb, _ := json.Marshal(k)
			b.Write(kb)
			b.WriteString(": ")
			writeJSON(b, x.vals[k], inner)
			if i < len(x.keys)-1 {
				b.WriteByte(',')
			}
			b.WriteByte('\n')
		}
		b.WriteString(indent + "}")
	case map[string]any:
		m := newOmap()
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			m.set(k, x[k])
		}
		writeJSON(b, m, indent)
	case []any:
		b.WriteByte('[')
		for i, e := range x {
			if i > 0 {
				b.WriteString(", ")
			}
			writeJSON(b, e, inner)
		}
		b.WriteByte(']')
	case jsonText:
		b.WriteString(string(x))
	case yamlText:
		kb, _ := json.Marshal(string(x))
		b.Write(kb)
	default:
		enc := json.NewEncoder(b)
		enc.SetEscapeHTML(false)
		_ = enc.Encode(x)
		b.Truncate(b.Len() - 1)
	}
}

func toYAML(v any) []byte {
	out, err := yaml.Marshal(yamlNode(v))
	if err != nil {
		panic(err)
	}
	return out
}

func scalar(tag, value string) *yaml.Node {
	return &yaml.Node{Kind: yaml.ScalarNode, Tag: tag, Value: value}
}

func yamlNode(v any) *yaml.Node {
	switch x := v.(type) {
	case *omap:
		n := &yaml.Node{Kind: yaml.MappingNode}
		for _, k := range x.keys {
			n.Content = append(n.Content, scalar("!!str", k), yamlNode(x.vals[k]))
		}
		return n
	case map[string]any:
		n := &yaml.Node{Kind: yaml.MappingNode}
		ks := make([]string, 0, len(x))
		for k := range x {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			n.Content = append(n.Content, scalar("!!str", k), yamlNode(x[k]))
		}
		return n
	case []any:
		n := &yaml.Node{Kind: yaml.SequenceNode}
		// Flow style only for short lists of scalars: in a flow context
		// yaml.v3 quotes any scalar with a ':' (a plain date's clock).
		flow := len(x) > 0 && len(x) < 5
		for _, e := range x {
			switch e.(type) {
			case *omap, map[string]any, []any, yamlText:
				flow = false
			}
		}
		if flow {
			n.Style = yaml.FlowStyle
		}
		for _, e := range x {
			n.Content = append(n.Content, yamlNode(e))
		}
		return n
	case yamlText:
		return scalar("", string(x)) // plain, as written
	case jsonText:
		return scalar("", string(x))
	case string:
		if len(x) > 40 {
			return &yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: x, Style: yaml.LiteralStyle}
		}
		return scalar("!!str", x)
	case bool:
		return scalar("!!bool", strconv.FormatBool(x))
	case int:
		return scalar("!!int", strconv.Itoa(x))
	case float64:
		s := strconv.FormatFloat(x, 'g', -1, 64)
		if _, err := strconv.Atoi(s); err == nil {
			s += ".0"
		}
		return scalar("!!float", s)
	case nil:
		return scalar("!!null", "null")
	}
	panic("yamlNode: unexpected value")
}
