/* tilt: see tilt.h. */
#include "app/sim/tilt.h"

#include <math.h>

float tilt_rate(const float *p, int n, float c, float *w) {
    double sum = 0, e_c = exp(c);
    for (int i = 0; i < n; i++) {
        double liked = p[i] * e_c;
        w[i] = p[i] > 0 ? (float)(liked / (liked + 1 - p[i])) : 0;
        sum += w[i];
    }
    return n ? (float)(sum / n) : 0;
}

/* The mean rises with c, so bisection: 60 halvings leave c exact to float precision. */
float tilt_for_rate(const float *p, int n, float rate, float max_c, float *w) {
    float lo = 0, hi = max_c;
    if (tilt_rate(p, n, hi, w) < rate) return -1;
    for (int it = 0; it < 60; it++) {
        float mid = (lo + hi) / 2;
        if (tilt_rate(p, n, mid, w) < rate) lo = mid;
        else hi = mid;
    }
    tilt_rate(p, n, hi, w);
    return hi;
}

float tilt_kl(const float *p, const float *w, int n, float c) {
    double sum = 0, e_c = exp(c);
    for (int i = 0; i < n; i++) sum += w[i] * c - log(p[i] * e_c + 1 - p[i]);
    return n ? (float)(sum / n) : 0;
}
