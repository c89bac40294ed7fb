/* runtime/caps.c: process.capabilities with libcap. Names are resolved and
 * the sets checked in berth; the init only drops and sets. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/capability.h>
#include <sys/prctl.h>

#include "common/log.h"
#include "common/util.h"
#include "setup.h"

enum { SET_BOUNDING, SET_EFFECTIVE, SET_INHERITABLE, SET_PERMITTED, SET_AMBIENT, SET_COUNT };

static const char *const set_names[SET_COUNT] = {
	"bounding", "effective", "inheritable", "permitted", "ambient",
};

struct caps_plan {
	uint64_t sets[SET_COUNT];
	int last_cap;
};

/* The highest capability the running kernel knows. */
static int kernel_last_cap(void)
{
	_cleanup_free_ char *text = NULL;
	berr_t ignored = BERR_INIT;
	uint64_t v;
	int last = CAP_LAST_CAP;

	if (read_file("/proc/sys/kernel/cap_last_cap", &text, NULL, &ignored) == 0) {
		text[strcspn(text, "\n")] = '\0';
		if (parse_uint64(text, &v) && v < 64)
			last = v;
	}
	berr_free(&ignored);
	return last;
}

static int parse_set(char *const *names, const char *set, int last_cap, uint64_t *out,
		     berr_t *e)
{
	for (size_t i = 0; names && names[i]; i++) {
		cap_value_t v;

		if (cap_from_name(names[i], &v) < 0 || !str_has_prefix(names[i], "CAP_"))
			return berr_set(e, EINVAL, "process.capabilities.%s[%zu]: unknown capability \"%s\"",
					set, i, names[i]);
		if (v > last_cap) {
			log_warn("process.capabilities.%s: %s is not known to the running kernel, skipped",
				 set, names[i]);
			continue;
		}
		*out |= 1ull << v;
	}
	return 0;
}

static int check_subset(const struct caps_plan *p, int sub, int super, berr_t *e)
{
	uint64_t extra = p->sets[sub] & ~p->sets[super];

	if (!extra)
		return 0;
	for (int c = 0; c < 64; c++) {
		if (extra & (1ull << c)) {
			char *name = cap_to_name(c);

			berr_set(e, EINVAL, "process.capabilities.%s: %s is not in the %s set",
				 set_names[sub], name, set_names[super]);
			cap_free(name);
			return -1;
		}
	}
	return 0;
}

int caps_plan_make(const struct spec_process *p, struct caps_plan **out, berr_t *e)
{
	const struct spec_capabilities *c = p->capabilities;
	struct caps_plan *plan;
	char **const sets[SET_COUNT] = {
		c ? c->bounding : NULL, c ? c->effective : NULL, c ? c->inheritable : NULL,
		c ? c->permitted : NULL, c ? c->ambient : NULL,
	};

	*out = NULL;
	if (!c)
		return 0; /* no capabilities section: the process keeps what it has */
	plan = xzalloc(sizeof *plan);
	plan->last_cap = kernel_last_cap();
	for (int s = 0; s < SET_COUNT; s++) {
		if (parse_set(sets[s], set_names[s], plan->last_cap, &plan->sets[s], e) < 0) {
			free(plan);
			return -1;
		}
	}
	/* What capset(2) would refuse, said up front. */
	if (check_subset(plan, SET_EFFECTIVE, SET_PERMITTED, e) < 0 ||
	    check_subset(plan, SET_INHERITABLE, SET_BOUNDING, e) < 0) {
		free(plan);
		return -1;
	}
	/* The kernel raises an ambient capability only when it is permitted
	 * and inheritable. Engines (buildah) ask for ambient ones without the
	 * inheritable set; runc and crun skip those, and so does berth. */
	if (plan->sets[SET_AMBIENT] & ~(plan->sets[SET_PERMITTED] & plan->sets[SET_INHERITABLE])) {
		log_debug("process.capabilities.ambient: skipping capabilities that are not both permitted and inheritable");
		plan->sets[SET_AMBIENT] &= plan->sets[SET_PERMITTED] & plan->sets[SET_INHERITABLE];
	}
	*out = plan;
	return 0;
}

void caps_plan_free(struct caps_plan *plan)
{
	free(plan);
}

int caps_drop_bounding(const struct caps_plan *plan, berr_t *e)
{
	if (!plan)
		return 0;
	for (int c = 0; c <= plan->last_cap; c++) {
		if (plan->sets[SET_BOUNDING] & (1ull << c))
			continue;
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0 && errno != EINVAL)
			return berr_sys(e, "drop capability %d from the bounding set", c);
	}
	return 0;
}

static void set_flags(cap_t caps, cap_flag_t flag, uint64_t mask)
{
	for (cap_value_t c = 0; c < 64; c++)
		if (mask & (1ull << c))
			cap_set_flag(caps, flag, 1, &c, CAP_SET);
}

int caps_apply(const struct caps_plan *plan, berr_t *e)
{
	cap_t caps;
	int ret;

	if (!plan)
		return 0;
	caps = cap_init();
	if (!caps)
		return berr_sys(e, "cap_init");
	set_flags(caps, CAP_EFFECTIVE, plan->sets[SET_EFFECTIVE]);
	set_flags(caps, CAP_PERMITTED, plan->sets[SET_PERMITTED]);
	set_flags(caps, CAP_INHERITABLE, plan->sets[SET_INHERITABLE]);
	ret = cap_set_proc(caps);
	cap_free(caps);
	if (ret < 0)
		return berr_sys(e, "set capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0 && errno != EINVAL)
		return berr_sys(e, "clear ambient capabilities");
	for (int c = 0; c <= plan->last_cap; c++) {
		if (!(plan->sets[SET_AMBIENT] & (1ull << c)))
			continue;
		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			return berr_sys(e, "raise ambient capability %d", c);
	}
	return 0;
}
