module vexil/tests/conformance

go 1.25.9

require (
	github.com/diegoholiveira/jsonlogic/v3 v3.9.0
	github.com/thomaspoignant/go-feature-flag v1.52.1
	github.com/thomaspoignant/go-feature-flag/modules/core v0.6.1
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/BurntSushi/toml v1.6.0 // indirect
	github.com/antlr4-go/antlr/v4 v4.13.0 // indirect
	github.com/barkimedes/go-deepcopy v0.0.0-20220514131651-17c30cfc62df // indirect
	github.com/blang/semver/v4 v4.0.0 // indirect
	github.com/google/go-cmp v0.7.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/kr/text v0.2.0 // indirect
	github.com/nikunjy/rules v1.5.0 // indirect
	golang.org/x/exp v0.0.0-20240719175910-8a7402abbf56 // indirect
)

// The same replace as GOFF v1.52.1's own go.mod: GOFF's builds (the relay
// proxy, its tests) evaluate nikunjy queries with this fork (semver with
// prerelease), and vexil follows them.
replace github.com/nikunjy/rules => github.com/hairyhenderson/rules v0.0.0-20250704181428-58ee76134adc
