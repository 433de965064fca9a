package field

import (
	"errors"
	"testing"
)

var errBad = errors.New("bad config")

func TestErrorNamesTheField(t *testing.T) {
	err := error(Errorf(errBad, "Count", 0, "want 1 to %d", 10))
	if err.Error() != "Count 0: want 1 to 10" || !errors.Is(err, errBad) {
		t.Errorf("%v (is errBad: %v)", err, errors.Is(err, errBad))
	}
	nested := In("Bench", err)
	if nested.Error() != "Bench.Count 0: want 1 to 10" || !errors.Is(nested, errBad) {
		t.Errorf("In: %v", nested)
	}
	if got := Rename(nested, map[string]string{"Bench.Count": "--count"}); got.Error() != "--count 0: want 1 to 10" || !errors.Is(got, errBad) {
		t.Errorf("Rename: %v", got)
	}
	if got := Rename(nested, map[string]string{"Count": "--count"}); got.Error() != "--count 0: want 1 to 10" {
		t.Errorf("Rename by the last element: %v", got)
	}
	if got := Rename(nested, map[string]string{"Samples": "--samples"}); got != nested {
		t.Errorf("Rename without the field: %v", got)
	}
	plain := errors.New("plain")
	if In("Bench", plain) != plain || Rename(plain, nil) != plain || In("X", nil) != nil {
		t.Error("a plain error is not returned as it is")
	}
	if err.Error() != "Count 0: want 1 to 10" {
		t.Error("In or Rename changed the original")
	}
	if got := Errorf(nil, "Functions", nil, "unknown function %q", "x").Error(); got != `Functions: unknown function "x"` {
		t.Errorf("without a value: %s", got)
	}
}
