package picture

import "image"

// shrinkYCbCr returns a YCbCr picture (what the JPEG decoder gives) shrunk by a
// whole factor n by averaging n x n blocks of each plane, dropping the
// last rows and columns that do not fill a block. Averaging is a sound
// anti-alias filter for a whole factor, and it is cheap: it reads each
// byte once, where the kernel scaler on the full picture keeps a float64
// row buffer of the output width times the source height (150 MB for a
// 12-megapixel photo). The kernel then only has the rest of the way to go.
func shrinkYCbCr(src *image.YCbCr, n int) *image.YCbCr {
	b := src.Bounds()
	cw, ch := chromaStep(src.SubsampleRatio)
	// Whole chroma blocks only, so both planes shrink by exactly n.
	w := b.Dx() / (n * cw) * cw
	h := b.Dy() / (n * ch) * ch
	dst := image.NewYCbCr(image.Rect(0, 0, w, h), src.SubsampleRatio)
	average(dst.Y, dst.YStride, w, h, src.Y[src.YOffset(b.Min.X, b.Min.Y):], src.YStride, n)
	cOff := src.COffset(b.Min.X, b.Min.Y)
	average(dst.Cb, dst.CStride, w/cw, h/ch, src.Cb[cOff:], src.CStride, n)
	average(dst.Cr, dst.CStride, w/cw, h/ch, src.Cr[cOff:], src.CStride, n)
	return dst
}

// chromaStep is how many pixels across and down share one chroma sample.
func chromaStep(r image.YCbCrSubsampleRatio) (int, int) {
	switch r {
	case image.YCbCrSubsampleRatio422:
		return 2, 1
	case image.YCbCrSubsampleRatio420:
		return 2, 2
	case image.YCbCrSubsampleRatio440:
		return 1, 2
	case image.YCbCrSubsampleRatio411:
		return 4, 1
	case image.YCbCrSubsampleRatio410:
		return 4, 2
	}
	return 1, 1
}

// average writes the w x h plane dst whose every byte is the mean of an
// n x n block of src.
func average(dst []byte, dstStride, w, h int, src []byte, srcStride, n int) {
	sums := make([]int, w)
	area := n * n
	for y := 0; y < h; y++ {
		clear(sums)
		for dy := 0; dy < n; dy++ {
			row := src[(y*n+dy)*srcStride:]
			for x := range sums {
				s := 0
				for _, v := range row[x*n : x*n+n] {
					s += int(v)
				}
				sums[x] += s
			}
		}
		out := dst[y*dstStride:]
		for x, s := range sums {
			out[x] = uint8((s + area/2) / area)
		}
	}
}
