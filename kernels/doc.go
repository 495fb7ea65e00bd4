// Package kernels is the library of built-in cascades, embedded from the
// .einsum files in this folder.
//
// It must not import anything but the standard library and einsum packages.
package kernels
