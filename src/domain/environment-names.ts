/**
 * What may name an environment. An environment's name is its Git branch and a DNS label of
 * its URL (`<environment>.<project>.localhost`), so it must be both: lowercase letters,
 * digits and "-", 1 to 40 characters, starting with a letter or digit. The reason given for a
 * refusal names what is wrong, in the user's terms.
 */
export const ENVIRONMENT_NAME_MAX = 40;

export function environmentNameProblem(name: unknown): string | undefined {
  if (typeof name !== 'string') return 'an environment name must be a string';
  const shown = JSON.stringify(name.length > 60 ? `${name.slice(0, 57)}...` : name);
  if (name.length === 0) return 'an environment name must not be empty';
  if (name.length > ENVIRONMENT_NAME_MAX) {
    return `environment name ${shown} is ${name.length} characters long; at most ${ENVIRONMENT_NAME_MAX}`;
  }
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x1f\x7f]/.test(name)) return `environment name ${shown} contains a control character`;
  if (/\s/.test(name)) return `environment name ${shown} contains a space`;
  if (name.startsWith('-')) return `environment name ${shown} starts with "-": it would be read as an option`;
  if (name.includes('..')) return `environment name ${shown} contains "..", which Git forbids in branch names`;
  if (name.includes('/')) return `environment name ${shown} contains "/": environments are not nested by name; use --parent`;
  if (/[A-Z]/.test(name)) return `environment name ${shown} has capital letters; use lowercase (it is part of a host name)`;
  if (!/^[a-z0-9][a-z0-9-]*$/.test(name)) {
    return `environment name ${shown} may contain only lowercase letters, digits and "-"`;
  }
  if (name.endsWith('-')) return `environment name ${shown} ends with "-"`;
  return undefined;
}
