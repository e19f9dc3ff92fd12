module vexil/tests/goffparquet

go 1.25.9

require github.com/thomaspoignant/go-feature-flag v1.52.1

require (
	cloud.google.com/go/compute/metadata v0.9.0 // indirect
	github.com/apache/arrow/go/arrow v0.0.0-20200730104253-651201b0f516 // indirect
	github.com/apache/thrift v0.21.0 // indirect
	github.com/blang/semver v3.5.1+incompatible // indirect
	github.com/envoyproxy/go-control-plane/envoy v1.36.0 // indirect
	github.com/goccy/go-reflect v1.2.0 // indirect
	github.com/golang/snappy v1.0.0 // indirect
	github.com/google/uuid v1.6.0 // indirect
	github.com/klauspost/compress v1.18.5 // indirect
	github.com/pierrec/lz4/v4 v4.1.25 // indirect
	github.com/thomaspoignant/go-feature-flag/modules/core v0.6.1 // indirect
	github.com/xitongsys/parquet-go v1.6.2 // indirect
	github.com/xitongsys/parquet-go-source v0.0.0-20230830030807-0dd610dbff1d // indirect
	golang.org/x/xerrors v0.0.0-20240903120638-7835f813f4da // indirect
)

// As GOFF's own go.mod: its Parquet files come from rudderlabs' fork.
replace github.com/xitongsys/parquet-go => github.com/rudderlabs/parquet-go v0.0.3
