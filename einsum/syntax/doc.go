// Package syntax is the concrete syntax of the extended-Einsum language: a
// lexer, a parser (participle/v2) producing a syntax tree whose nodes carry
// positions, and a printer that writes the canonical ASCII form back
// (fusemax fmt).
//
// It only knows text: names are not resolved here (package einsum does that).
// It must not import einsum or any package above it.
package syntax
