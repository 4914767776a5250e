package main

import (
	"encoding/json"
	"strings"
	"testing"
)

func parse(t *testing.T, s string) *notebook {
	t.Helper()
	var nb notebook
	if err := json.Unmarshal([]byte(s), &nb); err != nil {
		t.Fatal(err)
	}
	return &nb
}

func TestInspect(t *testing.T) {
	// The stderr texts are what GoNB v0.11.1 wrote for a panicking cell and a
	// killed one (observed with nbconvert 6.5.3).
	for _, tc := range []struct {
		name     string
		outputs  string
		problems int
		pngs     int
		rows     int
	}{
		{"clean stdout", `[{"output_type":"stream","name":"stdout","text":["hello\n"]}]`, 0, 0, 0},
		{"panic", `[{"output_type":"stream","name":"stderr","text":["panic: boom\n","\n","exit status 2\n"]}]`, 1, 0, 0},
		{"signal", `[{"output_type":"stream","name":"stderr","text":"signal: killed\n"}]`, 1, 0, 0},
		{"exit status 0 is fine", `[{"output_type":"stream","name":"stderr","text":"exit status 0\n"}]`, 0, 0, 0},
		{"exit status in stdout is data", `[{"output_type":"stream","name":"stdout","text":"exit status 3\n"}]`, 0, 0, 0},
		{"error output", `[{"output_type":"error","ename":"ERROR","evalue":"compile failed","traceback":[]}]`, 1, 0, 0},
		{"png", `[{"output_type":"display_data","data":{"image/png":"iVBORw0KGgo=\n"},"metadata":{}}]`, 0, 1, 0},
		{"summary", `[{"output_type":"stream","name":"stdout","text":"x\nEOSKIT-SUMMARY {\"experiment\":\"mf\",\"compared\":\"model vs GD\",\"metric\":\"median rel err\",\"error\":0.001}\n"}]`, 0, 0, 1},
		{"bad summary", `[{"output_type":"stream","name":"stdout","text":"EOSKIT-SUMMARY {oops\n"}]`, 1, 0, 0},
	} {
		nb := parse(t, `{"cells":[{"cell_type":"code","execution_count":1,"outputs":`+tc.outputs+`}]}`)
		problems, pngs, rows := inspect(nb)
		if len(problems) != tc.problems || len(pngs) != tc.pngs || len(rows) != tc.rows {
			t.Errorf("%s: got %d problems %v, %d pngs, %d rows; want %d, %d, %d",
				tc.name, len(problems), problems, len(pngs), len(rows), tc.problems, tc.pngs, tc.rows)
		}
	}
}

func TestSummaryRowParsed(t *testing.T) {
	nb := parse(t, `{"cells":[{"cell_type":"code","outputs":[{"output_type":"stream","name":"stdout","text":"EOSKIT-SUMMARY {\"experiment\":\"mf\",\"compared\":\"model vs GD\",\"metric\":\"median\",\"error\":0.25}\n"}]}]}`)
	_, _, rows := inspect(nb)
	if len(rows) != 1 || rows[0].Experiment != "mf" || rows[0].Error != 0.25 {
		t.Fatalf("rows = %+v", rows)
	}
}

func TestOutputsOf(t *testing.T) {
	clean := parse(t, `{"cells":[{"cell_type":"markdown"},{"cell_type":"code","execution_count":null,"outputs":[]}]}`)
	if bad := outputsOf(clean); len(bad) != 0 {
		t.Errorf("clean notebook reported %v", bad)
	}
	dirty := parse(t, `{"cells":[{"cell_type":"code","execution_count":3,"outputs":[]},{"cell_type":"code","execution_count":null,"outputs":[{"output_type":"stream","name":"stdout","text":"x"}]}]}`)
	bad := outputsOf(dirty)
	if len(bad) != 2 || !strings.Contains(bad[0], "cell 1") || !strings.Contains(bad[1], "cell 2") {
		t.Errorf("dirty notebook reported %v, want cells 1 and 2", bad)
	}
}
