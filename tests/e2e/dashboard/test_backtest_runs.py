"""Portfolio and order-level backtests from the Optimization page, in headless Chromium.

Its own ``ffe serve`` (the fixtures of ``test_dashboard``, a fresh module scope): the jobs run in
the server's backtest worker over the bundled data, and the page shows what they returned.
"""

# ruff: noqa: F811  (the fixtures imported from test_dashboard are parameters by the same names)
from __future__ import annotations

import pytest

from tests.e2e.dashboard.test_dashboard import (  # noqa: F401  (fixtures)
    Pages,
    Server,
    browser,
    new_page,
    server,
    settle,
    shot,
)

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_a_portfolio_with_risk_stops_shows_every_instrument(new_page: Pages) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/optimization")
    form = page.get_by_test_id("backtest-form")
    expect(form).to_be_visible()
    form.get_by_label("Strategy").select_option("sma_cross")
    form.get_by_label("fast", exact=True).fill("3")
    form.get_by_label("slow", exact=True).fill("9")
    form.get_by_label("Bars").fill("1500")
    portfolio = form.get_by_test_id("portfolio-fieldset")
    portfolio.get_by_label("portfolio BTC-USD").check()
    portfolio.get_by_label("portfolio ETH-USD").check()
    portfolio.get_by_label("risk stops").check()
    form.get_by_role("button", name="Run backtest").click()
    expect(page.get_by_test_id("backtest-status")).to_have_text("done", timeout=90_000)
    expect(page.get_by_test_id("backtest-progress")).to_contain_text(
        "sma_cross on a portfolio of BTC-USD, ETH-USD"
    )
    result = page.get_by_test_id("backtest-result")
    expect(result.get_by_role("heading", name="Portfolio statistics")).to_be_visible()
    rows = result.get_by_test_id("portfolio-instrument-row")
    expect(rows).to_have_count(2)
    expect(rows.nth(0)).to_contain_text("BTC-USD")
    expect(rows.nth(1)).to_contain_text("ETH-USD")
    exits = " ".join(rows.nth(i).inner_text() for i in range(2))
    assert "stop loss" in exits or "take profit" in exits, exits
    # the whole account's trades are the instruments' trades
    stats = result.get_by_test_id("stats-table")
    total = int(stats.locator("tr", has_text="# Trades").locator("td").inner_text())
    per = sum(int(rows.nth(i).locator("td").nth(3).inner_text().replace(",", "")) for i in range(2))
    assert total == per > 0, (total, per)
    expect(result.get_by_test_id("equity-chart")).to_be_visible()
    settle(page)
    shot(page, "optimization-portfolio")


def test_an_order_level_optimization_runs_and_shows_its_heatmap(new_page: Pages) -> None:
    from playwright.sync_api import expect

    page = new_page()
    page.goto("/optimization")
    form = page.get_by_test_id("backtest-form")
    expect(form).to_be_visible()
    form.get_by_label("Strategy").select_option("sma_bracket")
    expect(form.get_by_test_id("order-level-note")).to_be_visible()
    expect(form.get_by_test_id("portfolio-fieldset")).to_have_count(0)
    form.get_by_label("Kind").select_option("optimize")
    form.get_by_label("fast grid").fill("3, 5")
    form.get_by_label("slow grid").fill("12, 20")
    form.get_by_label("sl grid").fill("0, 0.02")
    form.get_by_label("Bars").fill("1500")
    form.get_by_role("button", name="Run optimization").click()
    expect(page.get_by_test_id("backtest-status")).to_have_text("done", timeout=90_000)
    result = page.get_by_test_id("backtest-result")
    expect(result.get_by_test_id("best-params")).to_contain_text("fast=")
    expect(result.get_by_test_id("best-params")).to_contain_text("sl=")
    heatmap = result.get_by_test_id("heatmap")
    expect(heatmap.get_by_test_id("heatmap-metric")).to_contain_text("Sharpe Ratio")
    assert heatmap.locator("[data-testid=heatmap-cell]").count() == 4
    expect(result.get_by_test_id("backtest-trade-row").first).to_be_visible()
    settle(page)
    shot(page, "optimization-order-level")


def test_a_bad_order_strategy_parameter_is_refused_with_the_reason(new_page: Pages) -> None:
    from playwright.sync_api import expect

    page = new_page(allow=("status of 400",))  # the browser logs the refusal it shows
    page.goto("/optimization")
    form = page.get_by_test_id("backtest-form")
    expect(form).to_be_visible()
    form.get_by_label("Strategy").select_option("sma_bracket")
    form.get_by_label("sl", exact=True).fill("2")
    form.get_by_role("button", name="Run backtest").click()
    expect(page.get_by_test_id("backtest-form-error")).to_contain_text(
        "params.sl: 2 is outside 0..0.99"
    )
