/* tilt: the policy a rater's liking and the KL penalty aim the learner at.

   Maximising E[rating] - beta KL(pi || pi_base) over replies to a message x has a closed
   form: pi*(y|x) = pi_base(y|x) e^(c liked(y)) / Z(x), c = (r_liked - r_other) / beta (the
   form DPO starts from). With p_x the base's chance of a liked reply, the tilted policy
   gives one with probability w_x = p_x e^c / (p_x e^c + 1 - p_x): liked replies all rise by
   the same factor, so the tilted policy is as varied among them as the base is.
   `rlchat simulate --ceiling` measures that variety on samples of the base's replies. */
#ifndef RLCHAT_TILT_H
#define RLCHAT_TILT_H

/* The mean of w_x over the n messages at tilt c; w (n) gets each w_x. p_x = 0 stays 0. */
float tilt_rate(const float *p, int n, float c, float *w);
/* The tilt in [0, max_c] at which that mean is `rate`, with w filled for it; -1 (w
   unspecified) when even max_c falls short. */
float tilt_for_rate(const float *p, int n, float rate, float max_c, float *w);
/* KL(pi* || pi_base) in nats a reply, averaged over the messages: w_x c - log Z(x), with
   w filled by tilt_rate at the same c. */
float tilt_kl(const float *p, const float *w, int n, float c);

#endif
