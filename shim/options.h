/* options.h — the MEMKIT_* options: their table, their parsers, and the
 * values in force in this process.
 *
 * options_parse.c is pure (no globals, no environment): the tools and the
 * unit tests link it too. options.c holds the live values of the process. */
#ifndef MK_OPTIONS_H
#define MK_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

enum mk_opt_type {
    MK_TYPE_SIZE,      /* bytes: 4096, 64K, 500M, 500MB, 1G, 1GiB; 0 or off = off */
    MK_TYPE_DURATION,  /* stored in ns: 500ms, 60, 60s, 5m, 1h; 0 or off = off */
    MK_TYPE_BOOL,      /* 1/0, on/off, yes/no, true/false */
    MK_TYPE_PERCENT,   /* stored in hundredths of a percent: 25, 25%, 12.5% */
    MK_TYPE_LEVEL,     /* error, warn, info, debug (enum mk_log_level) */
    MK_TYPE_LIST,      /* comma-separated names */
    MK_TYPE_STRING,    /* free text */
    MK_TYPE_PATH,      /* a report path template (%p %e %t %%), or off */
    MK_TYPE_COUNT,     /* a whole number: 0, 32, 1000 (no unit) */
};

enum mk_option_id {
#define MK_OPTION(id, name, type, def, help) id,
#include "options.def"
#undef MK_OPTION
    MK_OPT_COUNT
};

struct mk_option_info {
    const char      *name;   /* "MEMKIT_REPORT" */
    enum mk_opt_type type;
    const char      *def;    /* default, in the same form as the environment */
    const char      *help;   /* one line */
};
extern const struct mk_option_info mk_options[MK_OPT_COUNT];

#define MK_OPT_TEXT_MAX 1024

/* A parsed value: num for numeric types, text for the others (and the
 * canonical text of every type, for reports and memkit_config_get). A
 * path's num is 1 unless it is "off". */
struct mk_opt_value {
    uint64_t num;
    char     text[MK_OPT_TEXT_MAX];
};

/* ---- options_parse.c: pure ---------------------------------------------
 * Each parser returns 0 and stores the result, or -1 and leaves *out
 * untouched. Leading and trailing blanks are ignored; nothing else is. */
int mk_parse_size(const char *s, uint64_t *bytes);
int mk_parse_duration(const char *s, uint64_t *ns);
int mk_parse_bool(const char *s, uint64_t *v);
int mk_parse_percent(const char *s, uint64_t *hundredths);
int mk_parse_level(const char *s, uint64_t *level);
int mk_parse_count(const char *s, uint64_t *n);
int mk_parse_list(const char *s, char *out, size_t len);     /* normalised "a,b,c" */
int mk_parse_path_template(const char *s, char *out, size_t len);
int mk_parse_value(enum mk_opt_type type, const char *s, struct mk_opt_value *out);
/* Fills v->text with the canonical text of v->num (numeric types):
 * 524288 bytes -> "512K", 60 s -> "60s"; text types are left as they are. */
void mk_format_value(enum mk_opt_type type, struct mk_opt_value *v);

/* The form a type expects, for messages: "a size (e.g. 500M)". */
const char *mk_type_expectation(enum mk_opt_type type);
/* The option's index in mk_options, or -1. */
int mk_option_find(const char *name);

/* ---- options.c: the values in force ------------------------------------ */
/* Reads every MEMKIT_* variable once; a bad value gets one memkit: warning
 * and the default. Never reads the environment under AT_SECURE (caller's
 * job not to call it then). */
void mk_options_load_env(void);
/* Resets every option to its default (used when the environment is not
 * to be read, and by tests). */
void mk_options_reset(void);
/* Whether the options have been read yet: before memkit's constructor
 * (another library's constructor allocating first) every value reads 0. */
int mk_options_loaded(void);
/* A numeric option's value: one relaxed atomic load, safe in wrappers. */
uint64_t mk_opt_num(enum mk_option_id id);
/* A text option's value, copied consistently even while another thread
 * sets it. -1 with ERANGE when buf is too small. */
int mk_opt_text(enum mk_option_id id, char *buf, size_t len);
/* memkit_config_set/get; errors as documented in memkit.h. */
int mk_options_set(const char *name, const char *value);
int mk_options_get(const char *name, char *buf, size_t len);
/* In a fork child: a lock held by a thread that no longer exists is freed. */
void mk_options_after_fork_child(void);

#endif
