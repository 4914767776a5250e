package main

import (
	"bufio"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/eoskit/eoskit/report"
)

// notebook is the part of the nbformat 4 schema the runner reads.
type notebook struct {
	Cells []cell `json:"cells"`
}

type cell struct {
	CellType       string   `json:"cell_type"`
	ExecutionCount *int     `json:"execution_count"`
	Outputs        []output `json:"outputs"`
}

type output struct {
	OutputType string         `json:"output_type"`
	Name       string         `json:"name"`
	Text       multiline      `json:"text"`
	Data       map[string]any `json:"data"`
	EName      string         `json:"ename"`
	EValue     string         `json:"evalue"`
}

// multiline is nbformat's string-or-list-of-strings.
type multiline string

func (m *multiline) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err == nil {
		*m = multiline(s)
		return nil
	}
	var parts []string
	if err := json.Unmarshal(b, &parts); err != nil {
		return err
	}
	*m = multiline(strings.Join(parts, ""))
	return nil
}

func readNotebook(path string) (*notebook, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var nb notebook
	if err := json.Unmarshal(b, &nb); err != nil {
		return nil, fmt.Errorf("%s: not a valid notebook: %v", path, err)
	}
	return &nb, nil
}

// outputsOf lists why a committed notebook is not clean: code cells that hold
// outputs or an execution count.
func outputsOf(nb *notebook) []string {
	var bad []string
	for i, c := range nb.Cells {
		if c.CellType != "code" {
			continue
		}
		if len(c.Outputs) > 0 || c.ExecutionCount != nil {
			bad = append(bad, fmt.Sprintf("cell %d holds outputs", i+1))
		}
	}
	return bad
}

// GoNB reports a failing cell program (panic, os.Exit, log.Fatal, a failed
// %test) only as these stderr lines; nbconvert still exits 0.
var failureLine = regexp.MustCompile(`(?m)^(exit status [1-9][0-9]*|signal: .*)$`)

// problem is one failure found in an executed notebook.
type problem struct {
	Cell int
	What string
}

func (p problem) String() string { return fmt.Sprintf("cell %d: %s", p.Cell, p.What) }

// inspect reads an executed notebook: its failures, its PNG figures and the
// summary rows printed by its cells.
func inspect(nb *notebook) (problems []problem, pngs [][]byte, rows []report.Row) {
	for i, c := range nb.Cells {
		for _, o := range c.Outputs {
			switch o.OutputType {
			case "error":
				problems = append(problems, problem{i + 1, fmt.Sprintf("error output %s: %s", o.EName, o.EValue)})
			case "stream":
				text := string(o.Text)
				if o.Name == "stderr" {
					for _, m := range failureLine.FindAllString(text, -1) {
						problems = append(problems, problem{i + 1, fmt.Sprintf("%q on stderr:\n%s", m, indent(tail(text, 15)))})
					}
				}
				sc := bufio.NewScanner(strings.NewReader(text))
				for sc.Scan() {
					line := sc.Text()
					if !strings.HasPrefix(line, report.SummaryPrefix) {
						continue
					}
					var r report.Row
					if err := json.Unmarshal([]byte(strings.TrimPrefix(line, report.SummaryPrefix)), &r); err != nil {
						problems = append(problems, problem{i + 1, fmt.Sprintf("malformed summary line %q: %v", line, err)})
						continue
					}
					rows = append(rows, r)
				}
			case "display_data", "execute_result", "update_display_data":
				s, ok := o.Data["image/png"].(string)
				if !ok {
					continue
				}
				b, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(s, "\n", ""))
				if err != nil {
					problems = append(problems, problem{i + 1, fmt.Sprintf("undecodable PNG output: %v", err)})
					continue
				}
				pngs = append(pngs, b)
			}
		}
	}
	return problems, pngs, rows
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func indent(s string) string { return "    " + strings.ReplaceAll(s, "\n", "\n    ") }
