/* The AWS shared files (~/.aws/credentials and ~/.aws/config): INI sections
 * of "key = value" lines, read afresh on each lookup (they are small, and a
 * user who fixes one expects the fix to be seen without a restart). */
#include "cloud/aws.h"

#include <ctype.h>
#include <openssl/crypto.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define MAX_FILE_BYTES ((size_t)1 << 20)

const char *vx_aws_profile_name(const char *option)
{
    if (option && *option)
        return option;
    const char *env = getenv("AWS_PROFILE");
    return env && *env ? env : "default";
}

/* AWS_SHARED_CREDENTIALS_FILE / AWS_CONFIG_FILE, or ~/.aws/<name>. */
static char *file_path(bool credentials)
{
    const char *env = getenv(credentials ? "AWS_SHARED_CREDENTIALS_FILE" : "AWS_CONFIG_FILE");
    const char *name = credentials ? "credentials" : "config";
    const char *home = getenv("HOME");
    if (!home || !*home) {
        struct passwd *pw = getpwuid(getuid());
        home = pw ? pw->pw_dir : NULL;
    }
    char path[4096];
    if (env && *env) {
        if (env[0] == '~' && env[1] == '/' && home)
            snprintf(path, sizeof path, "%s%s", home, env + 1);
        else
            snprintf(path, sizeof path, "%s", env);
    } else if (home) {
        snprintf(path, sizeof path, "%s/.aws/%s", home, name);
    } else {
        return NULL;
    }
    return strdup(path);
}

static char *read_small_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *data = malloc(MAX_FILE_BYTES + 1);
    size_t n = data ? fread(data, 1, MAX_FILE_BYTES, f) : 0;
    fclose(f);
    if (data)
        data[n] = '\0';
    return data;
}

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    return s;
}

/* Whether a section header (inside the brackets, trimmed) names the profile:
 * the credentials file says [name], the config file [profile name] or, for
 * the default profile, [default]. */
static bool section_is(const char *header, const char *profile, bool credentials)
{
    if (credentials)
        return strcmp(header, profile) == 0;
    if (strcmp(profile, "default") == 0 && strcmp(header, "default") == 0)
        return true;
    if (strncmp(header, "profile", 7) != 0 || (header[7] != ' ' && header[7] != '\t'))
        return false;
    const char *name = header + 8;
    while (*name == ' ' || *name == '\t')
        name++;
    return strcmp(name, profile) == 0;
}

static char *lookup(char *text, const char *profile, bool credentials, const char *key)
{
    bool in = false;
    char *found = NULL;
    for (char *line = text; line && *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        /* Indented lines continue a nested key ("s3 =\n  addressing_style = path"). */
        bool indented = *line == ' ' || *line == '\t';
        char *l = trim(line);
        if (*l == '[') {
            char *close = strchr(l, ']');
            if (close) {
                *close = '\0';
                in = section_is(trim(l + 1), profile, credentials);
            }
        } else if (in && !indented && *l && *l != '#' && *l != ';') {
            char *eq = strchr(l, '=');
            if (eq) {
                *eq = '\0';
                if (strcasecmp(trim(l), key) == 0) {
                    char *v = trim(eq + 1);
                    free(found);
                    found = strdup(v);
                }
            }
        }
        line = nl ? nl + 1 : NULL;
    }
    return found;
}

char *vx_aws_profile_get(const char *profile, bool credentials, const char *key)
{
    char *path = file_path(credentials);
    char *text = path ? read_small_file(path) : NULL;
    free(path);
    if (!text)
        return NULL;
    char *v = lookup(text, vx_aws_profile_name(profile), credentials, key);
    size_t n = strlen(text);
    OPENSSL_cleanse(text, n);  /* it held secret keys */
    free(text);
    if (v && !*v) {
        free(v);
        v = NULL;
    }
    return v;
}
