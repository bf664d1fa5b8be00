"""The issue format: strict YAML, the typed model, loading, the schema, inline markup, typography, images, fonts, what may reach a mail header.
May import: the package's base modules (errors, defaults, shipped, editions, safeio) and issue/ itself."""
