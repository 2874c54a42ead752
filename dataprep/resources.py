"""Where the shipped data files (templates/) live, installed or in a checkout."""

from pathlib import Path

from dataprep.errors import TemplateError

_PACKAGE_DIR = Path(__file__).resolve().parent


def templates_dir() -> Path:
    """The templates directory: inside the wheel, or the checkout's top-level `templates/`."""
    for candidate in (_PACKAGE_DIR / "_templates", _PACKAGE_DIR.parent / "templates"):
        if candidate.is_dir():
            return candidate
    raise TemplateError("templates directory not found: reinstall dataprep (pip install dataprep)")


def template_path(*parts: str) -> Path:
    """A file under templates/, e.g. template_path("instructions", "method.yaml")."""
    path = templates_dir().joinpath(*parts)
    if not path.exists():
        raise TemplateError(f"template {'/'.join(parts)} not found in {templates_dir()}")
    return path


def cache_dir() -> Path:
    """The user cache (dequantized models, JDK corpus): $DATAPREP_CACHE_DIR or ~/.cache/dataprep."""
    import os

    base = os.environ.get("DATAPREP_CACHE_DIR") or Path.home() / ".cache" / "dataprep"
    path = Path(base)
    path.mkdir(parents=True, exist_ok=True)
    return path
