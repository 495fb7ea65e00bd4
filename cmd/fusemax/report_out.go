package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/fusemax/fusemax/workload"
)

// The pieces every simulate report (accelerator, GPU, multi-device) prints
// the same way.

// writeAs prints rep in the -o format: indented JSON, one CSV row (where
// the report has a CSV form: csvRow non-nil), else the table.
func writeAs(w io.Writer, out string, rep any, table func(io.Writer), csvRow func() (head, row []string)) error {
	switch {
	case out == "json":
		return writeJSON(w, rep)
	case out == "csv" && csvRow != nil:
		return writeCSVRow(w, csvRow)
	}
	table(w)
	return nil
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// writeCSVRow writes a header line and one row.
func writeCSVRow(w io.Writer, csvRow func() (head, row []string)) error {
	head, row := csvRow()
	cw := csv.NewWriter(w)
	if err := cw.Write(head); err != nil {
		return err
	}
	if err := cw.Write(row); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// shapeLine is a shape as the tables print it: NAME=SIZE pairs by name.
func shapeLine(shape map[string]int64) string {
	return strings.ReplaceAll(workload.FormatShape(shape), ",", " ")
}

// shares prints per-unit shares (utilization) by name, each with format
// (e.g. "%s %.4f").
func shares(m map[string]float64, format string) string {
	var parts []string
	for _, k := range sortedNames(m) {
		parts = append(parts, fmt.Sprintf(format, k, m[k]))
	}
	return strings.Join(parts, "  ")
}
