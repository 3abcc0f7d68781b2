"""What is checked and set up before a run or the UI starts: the policy a run would refuse
after ingesting everything (`ccp run`), and the release partition a first-time UI needs
(`make dev`)."""

from __future__ import annotations

import sys

from pipelines.settings import PROJECT_ROOT, Settings, SettingsError


def prepare_ui(settings: Settings) -> str | None:
    """Before `make dev`: the Dagster home, and the release the configured source holds as a
    partition, so that a first-time user's UI offers it (adding one by hand asks for a code
    such as 2025A01, which the UI does not explain). Returns the release added, if any; a
    source that cannot say (offline with a live setting, BLS unreachable) is a note, not a
    stop: the UI starts all the same."""
    from dagster import DagsterInstance

    from pipelines.cli import ensure_dagster_home
    from pipelines.releases import add_release
    from pipelines.resources import SourcesResource
    from pipelines.sources.files import SourceError

    ensure_dagster_home(settings)
    # live, one quick question to BLS (no retries, a short timeout): the UI must not wait on it
    quick = settings.model_copy(
        update={"http_max_retries": 0, "http_timeout_s": min(settings.http_timeout_s, 10.0)}
    )
    try:
        release = SourcesResource.from_settings(quick).current_release()
    except (SourceError, ValueError) as err:
        print(f"note: no release partition added for the UI:\n{err}", file=sys.stderr)
        return None
    with DagsterInstance.get() as instance:
        if not add_release(instance, release):
            return None
    print(
        f"Added OEWS release {release} as a partition: in the UI, choose it when you "
        "materialize (e.g. the refresh_warehouse job's Materialize).",
        file=sys.stderr,
    )
    return release


def prepare_ui_main() -> int:
    """`make dev`'s first step: `prepare_ui` from the environment's settings; a setting it
    cannot use stops `make dev` with the message (exit 2) before the UI starts."""
    try:
        settings = Settings.from_env()
    except SettingsError as err:
        print(f"make dev: {err}", file=sys.stderr)
        return 2
    prepare_ui(settings)
    return 0


def policy_problem(settings: Settings) -> str | None:
    """What is wrong with the policy file or the state living-wage file it names, found before
    a run starts (the run would stop at the screen, after ingesting everything); None if
    nothing. The CSV's rows are checked by the screen, against the release's states."""
    from pipelines.policy.qualification import PolicyError, load_policy

    try:
        wage = load_policy(settings.resolve(settings.policy_path)).living_wage
    except PolicyError as err:
        return str(err)
    path = wage.state_thresholds_path
    if path is None or path.is_file():
        return None
    return (
        f"[living wage CSV] {path} does not exist (living_wage.state_thresholds_csv in "
        f"{settings.policy_path}; a relative path is read from the project folder, "
        f"{PROJECT_ROOT}).\nWhat to do: correct the path, or set it to null to use the "
        "national threshold in every state."
    )
