module vexil/tests/conformance/jsonlogic310

go 1.25

require github.com/diegoholiveira/jsonlogic/v3 v3.10.1
