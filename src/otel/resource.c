/* resource.c - the process's resource (service.*, host.name, process.*, telemetry.sdk.*)
 * merged with OTEL_RESOURCE_ATTRIBUTES, and the instrumentation scope. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sdk_int.h"
#include "woodctl/version.h"

typedef Opentelemetry__Proto__Common__V1__KeyValue KeyValue;
typedef Opentelemetry__Proto__Common__V1__AnyValue AnyValue;

static Opentelemetry__Proto__Resource__V1__Resource resource =
    OPENTELEMETRY__PROTO__RESOURCE__V1__RESOURCE__INIT;
static Opentelemetry__Proto__Common__V1__InstrumentationScope scope =
    OPENTELEMETRY__PROTO__COMMON__V1__INSTRUMENTATION_SCOPE__INIT;

const Opentelemetry__Proto__Resource__V1__Resource *wd_otel_resource(void)
{
	return &resource;
}

const Opentelemetry__Proto__Common__V1__InstrumentationScope *wd_otel_scope(void)
{
	return &scope;
}

static KeyValue *find(const char *key)
{
	for (size_t i = 0; i < resource.n_attributes; i++)
		if (!strcmp(resource.attributes[i]->key, key))
			return resource.attributes[i];
	return NULL;
}

/* Finds or appends the attribute, with its value cleared. */
static AnyValue *slot(const char *key)
{
	KeyValue *kv = find(key);
	if (kv) {
		if (kv->value->value_case ==
		    OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE)
			free(kv->value->string_value);
	} else {
		kv = xmalloc(sizeof(*kv));
		opentelemetry__proto__common__v1__key_value__init(kv);
		kv->key = xstrdup(key);
		kv->value = xmalloc(sizeof(AnyValue));
		resource.attributes =
		    xrealloc(resource.attributes, (resource.n_attributes + 1) * sizeof(kv));
		resource.attributes[resource.n_attributes++] = kv;
	}
	opentelemetry__proto__common__v1__any_value__init(kv->value);
	return kv->value;
}

static void set_str(const char *key, const char *value)
{
	AnyValue *v = slot(key);
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_STRING_VALUE;
	v->string_value = xstrdup(value);
}

static void set_int(const char *key, int64_t value)
{
	AnyValue *v = slot(key);
	v->value_case = OPENTELEMETRY__PROTO__COMMON__V1__ANY_VALUE__VALUE_INT_VALUE;
	v->int_value = value;
}

static void env_attr(const char *key, const char *value, void *ud)
{
	WD_UNUSED(ud);
	set_str(key, value);
}

static void noop_attr(const char *key, const char *value, void *ud)
{
	WD_UNUSED(key);
	WD_UNUSED(value);
	WD_UNUSED(ud);
}

int wd_otel_resource_check(struct wd_buf *err)
{
	return wd_otel_parse_kv_list("OTEL_RESOURCE_ATTRIBUTES", wd_oc.resource_attrs, noop_attr,
	                             NULL, err)
	           ? 1
	           : 0;
}

void wd_otel_resource_build(const char *role_name)
{
	const char *svc = role_name && *role_name ? role_name : "unknown_service:woodctl";
	set_str("service.name", svc);
	set_str("service.version", wd_version);
	char uuid[37];
	wd_otel_uuid4(uuid);
	set_str("service.instance.id", uuid);
	char host[256];
	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
		set_str("host.name", host);
	}
	set_int("process.pid", (int64_t)getpid());
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	const char *exe_name = program_invocation_short_name;
	if (n > 0) {
		exe[n] = '\0';
		const char *slash = strrchr(exe, '/');
		exe_name = slash ? slash + 1 : exe;
	}
	set_str("process.executable.name", exe_name);
	set_str("telemetry.sdk.name", "woodctl");
	set_str("telemetry.sdk.language", "c");
	set_str("telemetry.sdk.version", wd_version);
	/* Environment attributes win over detected ones; OTEL_SERVICE_NAME wins over both. */
	wd_otel_parse_kv_list("OTEL_RESOURCE_ATTRIBUTES", wd_oc.resource_attrs, env_attr, NULL,
	                      NULL);
	if (wd_oc.service_name)
		set_str("service.name", wd_oc.service_name);

	scope.name = (char *)"woodctl";
	scope.version = (char *)wd_version;
}
