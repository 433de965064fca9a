package runfile

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
)

// TestSchemaDocumented keeps SCHEMA.md honest: every JSON field of the
// run file's types must be named there, in backquotes.
func TestSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[reflect.Type]bool{}
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, path string) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice || typ.Kind() == reflect.Map {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] || typ.PkgPath() == "time" {
			return
		}
		seen[typ] = true
		for i := range typ.NumField() {
			f := typ.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
			if name == "" || name == "-" {
				continue
			}
			if !strings.Contains(string(doc), "`"+name+"`") {
				t.Errorf("SCHEMA.md does not document %s.%s (`%s`)", path, f.Name, name)
			}
			walk(f.Type, path+"."+f.Name)
		}
	}
	walk(reflect.TypeOf(Run{}), "Run")
	if len(seen) < 10 {
		t.Errorf("walked only %d types", len(seen))
	}
}

// TestSchemaDocumentsWrittenKeys: every key of a run file as vbench
// writes it, the ones MarshalJSON methods add (min_hex, addr_hex) included,
// is named in SCHEMA.md.
func TestSchemaDocumentsWrittenKeys(t *testing.T) {
	doc, err := os.ReadFile("SCHEMA.md")
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := fullRun().Encode(&buf); err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(buf.Bytes(), &v); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys[k] = true
				if k != "cpu_flags" && k != "vulnerabilities" { // maps: their keys are data
					walk(x)
				}
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(v)
	var missing []string
	for k := range keys {
		if !strings.Contains(string(doc), "`"+k+"`") {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		t.Errorf("SCHEMA.md does not document the written keys %q", missing)
	}
	for _, k := range []string{"min_hex", "max_hex", "addr_hex"} {
		if !keys[k] {
			t.Errorf("a full run written has no %q key", k)
		}
	}
}
