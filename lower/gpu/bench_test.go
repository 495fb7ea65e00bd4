package gpu

import "testing"

// One design point, as a sweep or the flashattention experiment runs it.
func BenchmarkSimulateFA3(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := simulate(b, "attention_1pass", "h100-sxm5-80gb", "fa3", "B=4,H=16,E=128,F=128,M=8192,P=8192"); err != nil {
			b.Fatal(err)
		}
	}
}

// A causal run simulates each CTA of the busiest SM on its own.
func BenchmarkSimulateCausalFA2(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := simulate(b, "causal_1pass.einsum", "a100-sxm4-80gb", "fa2", "B=4,H=16,E=128,F=128,M=16384,P=16384"); err != nil {
			b.Fatal(err)
		}
	}
}
