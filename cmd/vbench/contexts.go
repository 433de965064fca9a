package main

import (
	"slices"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vbench-dev/vbench/runfile"
)

// contextsHelp is the --contexts flag's usage, shared by bench, verify and
// run.
var contextsHelp = func() string {
	var names []string
	for _, c := range runfile.Contexts {
		names = append(names, string(c))
	}
	return "contexts to measure in besides plain, each in a child placed there: " + strings.Join(names, ", ") +
		", or " + runfile.ContextSeccomp + " for both seccomp filters (plain is always measured)"
}()

// contextsFlag adds --contexts to fs.
func contextsFlag(fs *pflag.FlagSet) *[]string {
	return fs.StringSlice("contexts", []string{string(runfile.ContextPlain)}, contextsHelp)
}

// parseContexts checks --contexts: an unknown name or an empty one is bad
// input, exit status 2, before anything is measured.
func parseContexts(cmd string, names []string) ([]runfile.Context, error) {
	if slices.Contains(names, "") || len(names) == 0 {
		return nil, usageErrorf("%s: --contexts: an empty name (leave the flag out for plain)", cmd)
	}
	cs, err := runfile.ParseContexts(names)
	if err != nil {
		return nil, usageErrorf("%s: --contexts: %v", cmd, err)
	}
	return cs, nil
}
