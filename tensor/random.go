package tensor

import "math"

// Rand is SplitMix64 (Steele, Lea, Flood 2014): a tiny generator whose output
// is fixed by its definition, unlike math/rand's streams, so seeded inputs are
// identical on every machine and Go release.
type Rand struct{ state uint64 }

// NewRand returns a generator started at seed.
func NewRand(seed uint64) *Rand { return &Rand{state: seed} }

// Uint64 returns the next 64 random bits.
func (r *Rand) Uint64() uint64 {
	r.state += 0x9e3779b97f4a7c15
	z := r.state
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Float64 is uniform in [0, 1) with 53 random bits.
func (r *Rand) Float64() float64 { return float64(r.Uint64()>>11) / (1 << 53) }

// Uniform is uniform in [-1, 1).
func (r *Rand) Uniform() float64 { return 2*r.Float64() - 1 }

// Normal is a standard normal deviate by the Box–Muller transform; it uses
// two draws per value (the second deviate is dropped so that the stream
// position does not depend on call history).
func (r *Rand) Normal() float64 {
	u1 := 1 - r.Float64() // (0, 1], so the log is finite
	u2 := r.Float64()
	return math.Sqrt(-2*math.Log(u1)) * math.Cos(2*math.Pi*u2)
}

// SeedFor derives a tensor's own seed from the run's seed and the tensor's
// name with FNV-1a, so that each tensor's contents depend only on those two.
func SeedFor(seed uint64, name string) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	for i := 0; i < 8; i++ {
		h ^= (seed >> (8 * i)) & 0xff
		h *= prime
	}
	for i := 0; i < len(name); i++ {
		h ^= uint64(name[i])
		h *= prime
	}
	return h
}

// Distribution chooses how random elements are drawn.
type Distribution int

const (
	UniformDist Distribution = iota // uniform in [-1, 1)
	NormalDist                      // standard normal
)

// Random returns a tensor of the given shape filled from the stream of
// (seed, name), row-major.
func Random(seed uint64, name string, dist Distribution, shape ...int) *Dense {
	t := New(shape...)
	r := NewRand(SeedFor(seed, name))
	for i := range t.Data {
		if dist == NormalDist {
			t.Data[i] = r.Normal()
		} else {
			t.Data[i] = r.Uniform()
		}
	}
	return t
}
