// Package layers holds no code: its test checks the direction of vbench's
// package graph, which the package docs promise and nothing else enforces.
//
// Renderers (report, plots, bootlab, openmetrics) read run files; they
// must not import a measuring package (probes and its subpackages, the
// ASLR sampler aslr, study, sysenv, proc), directly or through another:
// what they need of the measurers' words is runfile's vocabulary
// (runfile/vocab.go), and what they need of the ASLR estimators is
// aslr/analysis. runfile itself imports nothing of vbench but
// internal/atomicfile, and aslr/analysis nothing but runfile.
package layers
