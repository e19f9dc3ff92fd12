package main

// The GOFF side: each case goes through GOFF's own Go module, v1.52.1, with
// its typed API (BoolVariationDetails ... JSONArrayVariationDetails) on a
// client that reads the flag file with GOFF's file retriever.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	ffclient "github.com/thomaspoignant/go-feature-flag"
	"github.com/thomaspoignant/go-feature-flag/ffcontext"
	"github.com/thomaspoignant/go-feature-flag/modules/core/dto"
	"github.com/thomaspoignant/go-feature-flag/retriever/fileretriever"
	"gopkg.in/yaml.v3"
)

type goffFile struct {
	client    *ffclient.GoFeatureFlag
	loadError string
	// scheduled names the flags with a scheduledRollout. GOFF v1.52.1
	// merges due steps into the cached flag's own rules (MergeSetOfRules on
	// f.GetRules() in modules/core/flag/internal_flag.go), so a flag's
	// answers depend on what was evaluated before: each case of such a flag
	// gets a client of its own, as a first evaluation after start-up.
	scheduled map[string]bool
	path      string
	format    string
}

type goffOracle struct {
	dir   string
	files map[string]*goffFile
	quiet *slog.Logger
}

func newGoffOracle(dir string) *goffOracle {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	// GOFF's core logs failed queries through the default logger.
	slog.SetDefault(quiet)
	return &goffOracle{dir: dir, files: map[string]*goffFile{}, quiet: quiet}
}

func (o *goffOracle) close() {
	for _, f := range o.files {
		if f.client != nil {
			f.client.Close()
		}
	}
}

func (o *goffOracle) newClient(path, format string) (c *ffclient.GoFeatureFlag, err error) {
	defer func() {
		if r := recover(); r != nil {
			c, err = nil, fmt.Errorf("panic: %v", r)
		}
	}()
	return ffclient.New(ffclient.Config{
		PollingInterval:       time.Hour,
		DisableNotifierOnInit: true,
		LeveledLogger:         o.quiet,
		FileFormat:            format,
		Retriever:             &fileretriever.Retriever{Path: path},
	})
}

// decodeFlags reads a flag file the way GOFF's cache does
// (internal/cache/cache_manager.go: ConvertToFlagStruct).
func decodeFlags(data []byte, format string) (map[string]dto.DTO, error) {
	var flags map[string]dto.DTO
	var err error
	if strings.EqualFold(format, "json") {
		err = json.Unmarshal(data, &flags)
	} else {
		err = yaml.Unmarshal(data, &flags)
	}
	return flags, err
}

func (o *goffOracle) file(name, format string) *goffFile {
	if f, ok := o.files[name]; ok {
		return f
	}
	f := &goffFile{path: filepath.Join(o.dir, name), format: format, scheduled: map[string]bool{}}
	o.files[name] = f
	if data, err := os.ReadFile(f.path); err == nil {
		if flags, err := decodeFlags(data, format); err == nil {
			for k, d := range flags {
				if d.Scheduled != nil {
					f.scheduled[k] = true
				}
			}
		}
	}
	c, err := o.newClient(f.path, format)
	if err != nil {
		f.loadError = err.Error()
	}
	f.client = c
	return f
}

// lint lists the file's invalid flags with GOFF's reason, as the cache's Init
// does (internal/cache/in_memory_cache.go).
func (o *goffOracle) lint(c Case) (res Result) {
	res.ID = c.ID
	f := o.file(c.File, c.Format)
	if f.loadError != "" {
		res.LoadError = &f.loadError
		return res
	}
	data, _ := os.ReadFile(f.path)
	flags, _ := decodeFlags(data, c.Format)
	invalid := map[string]string{}
	for k, d := range flags {
		func() {
			defer func() {
				if r := recover(); r != nil {
					invalid[k] = fmt.Sprintf("panic: %v", r)
				}
			}()
			fl := d.Convert()
			if err := fl.IsValid(); err != nil {
				invalid[k] = err.Error()
			}
		}()
	}
	res.Invalid = &invalid
	return res
}

// goContext builds the context as a Go caller would: integral top-level
// numbers are int unless listed in Floats, every other number a float64.
func goContext(c Case) ffcontext.Context {
	key := ""
	if c.Key != nil {
		key = *c.Key
	}
	ctx := ffcontext.NewEvaluationContext(key)
	floats := map[string]bool{}
	for _, f := range c.Floats {
		floats[f] = true
	}
	for k, v := range c.Attrs {
		if n, ok := v.(json.Number); ok && !floats[k] {
			if i, err := n.Int64(); err == nil {
				ctx.AddCustomAttribute(k, int(i))
				continue
			}
		}
		ctx.AddCustomAttribute(k, nested(v))
	}
	return ctx
}

func nested(v any) any {
	switch x := v.(type) {
	case json.Number:
		f, _ := x.Float64()
		return f
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = nested(e)
		}
		return m
	case []any:
		a := make([]any, len(x))
		for i, e := range x {
			a[i] = nested(e)
		}
		return a
	}
	return v
}

func decodeDefault[T any](raw json.RawMessage) T {
	var v T
	if len(raw) > 0 {
		d := json.NewDecoder(bytes.NewReader(raw))
		_ = d.Decode(&v)
	}
	return v
}

func marshal(v any) json.RawMessage {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	if err := enc.Encode(v); err != nil {
		s, _ := json.Marshal("!unencodable: " + err.Error())
		return s
	}
	return bytes.TrimRight(b.Bytes(), "\n")
}

func (o *goffOracle) eval(c Case) (res Result) {
	res.ID = c.ID
	f := o.file(c.File, c.Format)
	if f.loadError != "" {
		res.LoadError = &f.loadError
		return res
	}
	client := f.client
	if f.scheduled[c.Flag] {
		fresh, err := o.newClient(f.path, c.Format)
		if err != nil {
			msg := err.Error()
			res.LoadError = &msg
			return res
		}
		defer fresh.Close()
		client = fresh
	}
	defer func() {
		if r := recover(); r != nil {
			res = Result{ID: c.ID, Panic: fmt.Sprint(r)}
		}
	}()
	ctx := goContext(c)
	switch c.Type {
	case "bool":
		r, err := client.BoolVariationDetails(c.Flag, ctx, decodeDefault[bool](c.Default))
		fill(&res, r.Value, r.VariationType, r.Reason, r.ErrorCode, r.ErrorDetails, err, r.Metadata, r.Version, r.TrackEvents, r.Cacheable)
	case "int":
		r, err := client.IntVariationDetails(c.Flag, ctx, decodeDefault[int](c.Default))
		fill(&res, r.Value, r.VariationType, r.Reason, r.ErrorCode, r.ErrorDetails, err, r.Metadata, r.Version, r.TrackEvents, r.Cacheable)
	case "float":
		r, err := client.Float64VariationDetails(c.Flag, ctx, decodeDefault[float64](c.Default))
		fill(&res, r.Value, r.VariationType, r.Reason, r.ErrorCode, r.ErrorDetails, err, r.Metadata, r.Version, r.TrackEvents, r.Cacheable)
	case "string":
		r, err := client.StringVariationDetails(c.Flag, ctx, decodeDefault[string](c.Default))
		fill(&res, r.Value, r.VariationType, r.Reason, r.ErrorCode, r.ErrorDetails, err, r.Metadata, r.Version, r.TrackEvents, r.Cacheable)
	case "object":
		r, err := client.JSONVariationDetails(c.Flag, ctx, decodeDefault[map[string]any](c.Default))
		fill(&res, r.Value, r.VariationType, r.Reason, r.ErrorCode, r.ErrorDetails, err, r.Metadata, r.Version, r.TrackEvents, r.Cacheable)
	case "array":
		r, err := client.JSONArrayVariationDetails(c.Flag, ctx, decodeDefault[[]any](c.Default))
		fill(&res, r.Value, r.VariationType, r.Reason, r.ErrorCode, r.ErrorDetails, err, r.Metadata, r.Version, r.TrackEvents, r.Cacheable)
	default:
		res.Panic = "unknown type " + c.Type
	}
	return res
}

// fill copies a VariationResult. The error message is ErrorDetails, or the
// error the typed call returned when ErrorDetails is empty (TYPE_MISMATCH,
// FLAG_NOT_FOUND carry their message only there).
func fill(res *Result, value any, variant, reason, code, details string, err error,
	meta map[string]any, version string, track, cacheable bool) {
	res.Value = marshal(value)
	res.Variant = variant
	res.Reason = reason
	res.ErrorCode = code
	res.ErrorMessage = details
	if details == "" && err != nil {
		res.ErrorMessage = err.Error()
	}
	if meta == nil {
		res.Metadata = json.RawMessage("null")
	} else {
		res.Metadata = marshal(meta)
	}
	res.Version = version
	res.TrackEvents = track
	res.Cacheable = cacheable
}

func (o *goffOracle) run(c Case) Result {
	if c.Lint {
		return o.lint(c)
	}
	return o.eval(c)
}
