/* rater: scripted users for `rlchat simulate`. Each prefers one kind of reply; the
   simulation rates +1 when a reply is preferred and -1 otherwise, through the same
   session_rate path as a keystroke. */
#ifndef RLCHAT_RATER_H
#define RLCHAT_RATER_H

typedef enum {
    RATER_QUESTION,  /* the reply asks a question (contains '?') */
    RATER_SHORT,     /* at most 8 words */
    RATER_POSITIVE,  /* contains a positive sentiment word */
    RATER_TOPIC      /* mentions a given word */
} RaterKind;

typedef struct {
    RaterKind kind;  /* which preference */
    char word[64];   /* the topic word for RATER_TOPIC, lower case */
    char spec[80];   /* as given: question, short, positive, topic:WORD */
} Rater;

/* Parses SPEC; -1 with err_msg() on an unknown one. */
int rater_parse(Rater *r, const char *spec);
/* 1 when the rater prefers this reply text. */
int rater_prefers(const Rater *r, const char *reply);
/* Distinct-2: unique word bigrams over all bigrams of the replies (0 when none). */
double distinct2(char **replies, int n);

#endif
