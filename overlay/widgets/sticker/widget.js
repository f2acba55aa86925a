// sticker: a call to action with a QR code to the donate page (both rendered by the server),
// the amount raised, and the match multiplier as a badge while a match is active.

export function mount(root, { client, ui, t, config }) {
  const sticker = ui.role(root, "sticker");
  const badge = ui.role(root, "badge");
  const raised = ui.role(root, "raised");
  const fill = ui.role(root, "fill");
  let match = null;

  function renderCampaign(campaign) {
    if (raised) raised.textContent = t("raised_total", { amount: campaign.display.total });
    if (fill) fill.style.width = `${Math.min(Number(campaign.percent), 100)}%`;
  }

  function renderMatch() {
    const active = ui.matchActive(match, client.serverNow());
    badge.hidden = !active;
    if (active) badge.textContent = ui.formatMultiplier(config.locale, match.multiplier);
  }

  client.onState((state) => {
    match = state.match;
    renderCampaign(state.campaign);
    renderMatch();
  });
  client.on("donation", (ev) => {
    if (ev.donation.test) return;
    renderCampaign(ev.campaign);
    ui.restartAnimation(sticker, "is-thanked");
  });
  client.on("progress", (ev) => renderCampaign(ev.campaign));
  client.on("match", (ev) => { match = ev.match; renderMatch(); });
  setInterval(renderMatch, 1000);
}
