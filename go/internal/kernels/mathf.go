package kernels

import "math"

// Float32 elementwise functions of the encoder.

// expf is e^x in float32 with ~1 ulp error (Cephes expf: range reduction by ln 2 and a
// degree-5 polynomial). Inputs below -87.3 give 0, above 88.7 +Inf.
func expf(x float32) float32 {
	if x < -87.33654 {
		return 0
	}
	if x > 88.72283 {
		return float32(math.Inf(1))
	}
	n := float32(math.Floor(float64(x*1.44269504088896341 + 0.5)))
	r := x - n*0.693359375 + n*2.12194440e-4
	p := float32(1.9875691500e-4)
	p = p*r + 1.3981999507e-3
	p = p*r + 8.3334519073e-3
	p = p*r + 4.1665795894e-2
	p = p*r + 1.6666665459e-1
	p = p*r + 5.0000001201e-1
	y := p*r*r + r + 1
	e := int32(n)
	// 2^e for e in [-126, 127]; x ≥ -87.3 keeps e ≥ -126 except at the very edge.
	if e < -126 {
		return y * float32(math.Ldexp(1, int(e)))
	}
	return y * math.Float32frombits(uint32(e+127)<<23)
}

// erff is erf(x) in float32: the rational approximation Eigen and XLA use for float
// (odd degree-13 numerator over even degree-8 denominator, inputs clamped to [-4, 4] where
// erf is ±1 in float32), within a few ulps of the exact value.
func erff(x float32) float32 {
	if x > 4 {
		x = 4
	} else if x < -4 {
		x = -4
	}
	x2 := x * x
	p := float32(-2.72614225801306e-10)
	p = p*x2 + 2.77068142495902e-08
	p = p*x2 + -2.10102402082508e-06
	p = p*x2 + -5.69250639462346e-05
	p = p*x2 + -7.34990630326855e-04
	p = p*x2 + -2.95459980854025e-03
	p = p*x2 + -1.60960333262415e-02
	p *= x
	q := float32(-1.45660718464996e-05)
	q = q*x2 + -2.13374055278905e-04
	q = q*x2 + -1.68282697438203e-03
	q = q*x2 + -7.37332916720468e-03
	q = q*x2 + -1.42647390514189e-02
	return p / q
}

// geluGo applies exact (erf) GELU in place: x·½·(1 + erf(x/√2)), as torch's nn.GELU().
func geluGo(v []float32) {
	for i, x := range v {
		v[i] = 0.5 * x * (1 + erff(x*0.70710678118654752))
	}
}

// softmaxGo replaces v with softmax(v).
func softmaxGo(v []float32) {
	if len(v) == 0 {
		return
	}
	scaleGo(v, expNormGo(v))
}

// expNormGo sets v[i] = exp(v[i] - max(v)) and returns 1/Σ v[i]. v must not be empty.
func expNormGo(v []float32) float32 {
	m := v[0]
	for _, x := range v[1:] {
		if x > m {
			m = x
		}
	}
	var sum float32
	for i, x := range v {
		e := expf(x - m)
		v[i] = e
		sum += e
	}
	return 1 / sum
}

func scaleGo(v []float32, s float32) {
	for i := range v {
		v[i] *= s
	}
}

// layerNormGo normalizes x in place: (x-mean)/sqrt(var+eps)·gamma + beta, with the biased
// variance, as torch.nn.LayerNorm. Moments are accumulated in float64.
func layerNormGo(x, gamma, beta []float32, eps float32) {
	var s float64
	for _, v := range x {
		s += float64(v)
	}
	mean := s / float64(len(x))
	var ss float64
	for _, v := range x {
		d := float64(v) - mean
		ss += d * d
	}
	inv := float32(1 / math.Sqrt(ss/float64(len(x))+float64(eps)))
	m := float32(mean)
	gamma = gamma[:len(x)]
	beta = beta[:len(x)]
	for i, v := range x {
		x[i] = (v-m)*inv*gamma[i] + beta[i]
	}
}

// addGo sets x[i] += y[i] for i < len(x), eight at a time (a plain loop compiled to one
// scalar add with bounds checks per element took 2.3 cycles each here).
func addGo(x, y []float32) {
	y = y[:len(x)]
	for len(x) >= 8 {
		x0, y0 := x[:8:8], y[:8:8]
		x0[0] += y0[0]
		x0[1] += y0[1]
		x0[2] += y0[2]
		x0[3] += y0[3]
		x0[4] += y0[4]
		x0[5] += y0[5]
		x0[6] += y0[6]
		x0[7] += y0[7]
		x, y = x[8:], y[8:]
	}
	for i := range x {
		x[i] += y[i]
	}
}
