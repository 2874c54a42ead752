"""The LLM generator as a library call: Evol-Instruct over a store from plain settings.

What `dataprep generate` and `dataprep run --llm` both call (the CLI turns its options into
these keywords; the library never imports the CLI).
"""

from __future__ import annotations

from dataprep.settings import DEFAULT_TIMEOUT, EvolConfig, LLMOptions


def generate_with_llm(
    store,
    spec: str,
    *,
    host: str | None = None,
    endpoints: list[str] | None = None,
    timeout: float = DEFAULT_TIMEOUT,
    concurrency: int = EvolConfig.concurrency,
    units: int | None = EvolConfig.units,
    rounds: int = EvolConfig.rounds,
    questions: int = EvolConfig.questions_per_unit,
    temperature: float = LLMOptions.temperature,
    llm_seed: int = LLMOptions.seed,
    num_ctx: int = LLMOptions.num_ctx,
    max_tokens: int = LLMOptions.max_tokens,
    seed: int = EvolConfig.seed,
    dry_run: bool = EvolConfig.dry_run,
):
    """The `generate` stage: Evol-Instruct pairs over `store` with the backend `spec` (the
    defaults are those of EvolConfig and LLMOptions, in dataprep.settings).

    A dry run builds no backend (loads no model, calls nothing) and only plans.
    `endpoints` are `--llm-endpoint` values (URL[,max_inflight], `concurrency` where no
    cap is given); requests then run up to the sum of their caps at once.
    """
    from dataprep.generate.evol import plan_evol, run_evol
    from dataprep.generate.llm import parse_llm_spec
    from dataprep.generate.llm.endpoints import parse_endpoints

    servers = parse_endpoints(endpoints or [], concurrency)
    if servers:
        concurrency = sum(e.max_inflight for e in servers)

    options = LLMOptions(
        temperature=temperature, seed=llm_seed, num_ctx=num_ctx, max_tokens=max_tokens
    )
    config = EvolConfig(
        rounds=rounds,
        units=units,
        seed=seed,
        concurrency=concurrency,
        questions_per_unit=questions,
        dry_run=dry_run,
    )
    if dry_run:
        return plan_evol(store, config, options)
    backend = parse_llm_spec(
        spec, host=host, timeout=timeout, options=options, endpoints=servers or None
    )
    run_id = store.start_run("generate", {"llm": spec, **config.model_dump(), **options.as_dict()})
    try:
        summary = run_evol(store, config, backend)
    except BaseException:
        store.finish_run(run_id, "failed")
        raise
    finally:
        backend.close()
    store.finish_run(run_id, "done", summary.model_dump())
    return summary
