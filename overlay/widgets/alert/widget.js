// alert: shows the alert the server is playing, from starts_at to starts_at + duration_ms in
// server time, so every overlay of the channel shows it at the same moment.

const EXIT_MS = 450;          // the exit animation ends exactly when the alert does
const SOUND_LATE_MS = 2000;   // joining an alert later than this: no sound, just the picture
const REACHED_MS = 6000;      // how long a "target reached" banner stays
const MIN_FONT_PX = { name: 26, text: 22, message: 18 }; // the smallest a long text shrinks to

// A long name or message shrinks until it fits the max-height widget.css gives it, instead of
// being cut: the full text the donate page accepted is on screen (docs/widgets.md).
function fit(el, minPx) {
  el.style.fontSize = "";
  if (el.hidden) return;
  let size = parseFloat(getComputedStyle(el).fontSize);
  // Glyphs reach a little past a tight line-height (1.05): a hidden part is more than that.
  while (el.scrollHeight > el.clientHeight + size * 0.15 && size > minPx) {
    size = Math.max(minPx, size * 0.92);
    el.style.fontSize = `${size}px`;
  }
}

export function mount(root, { client, ui, t, config, settings }) {
  const card = ui.role(root, "card");
  const image = ui.role(root, "image");
  const media = ui.role(root, "media");
  const video = ui.role(root, "video"); // a tier's video plays its own sound (docs/widgets.md)
  const heart = ui.role(root, "heart");
  const name = ui.role(root, "name");
  const variationText = ui.role(root, "text"); // a variation's text template, in place of name and amount
  const amount = ui.role(root, "amount");
  const matchLine = ui.role(root, "match");
  const message = ui.role(root, "message");
  const incentive = ui.role(root, "incentive");
  const reached = ui.role(root, "reached");
  let reachedTimer = null;
  const testBadge = ui.role(root, "test");
  const audio = new Audio();
  audio.preload = "auto";
  audio.volume = settings.volume;
  const voice = ui.role(root, "speech"); // the spoken message, after the sound (docs/tts.md)
  voice.volume = settings.speech_volume;
  let speechFor = null; // the play whose speech waits for its sound to end
  let match = null;
  let timers = [];     // when the scheduled alert starts and ends
  let exitTimer = null; // the end of an exit animation
  let showing = null;

  audio.addEventListener("ended", () => speak());
  video.addEventListener("ended", () => speak());
  // A picture that does not load (deleted from the library): the built-in heart instead.
  const showHeart = () => { image.hidden = video.hidden = true; heart.removeAttribute("hidden"); };
  image.addEventListener("error", () => { if (image.getAttribute("src")) showHeart(); });
  video.addEventListener("error", () => { if (video.getAttribute("src")) showHeart(); });

  function cancelTimers() {
    timers.forEach(clearTimeout);
    timers = [];
  }

  function render(play) {
    const d = play.donation;
    const tier = play.tier || {};
    name.textContent = ui.donorName(t, d);
    // A donor who hid the amount: the words without a figure.
    if (d.display.amount === null) ui.fill(amount, config.strings.donated_hidden, {});
    else ui.fill(amount, config.strings.donated, { amount: ui.el("strong", "alert__value", d.display.amount) });
    const matched = Number(d.matched) > 0;
    matchLine.hidden = !matched;
    if (matched) matchLine.textContent = ui.matchLine(t, config.strings, d, match);
    renderIncentive(d.incentive);
    message.hidden = !(settings.show_message && d.message);
    message.textContent = settings.show_message && d.message ? d.message : "";
    testBadge.hidden = !(settings.test_badge && d.test);
    media.hidden = !settings.show_image;
    if (settings.show_image) showPicture(imageUrl(tier, play.variation));
    root.dataset.tier = tier.min_amount ? "big" : "base";
    renderVariation(play.variation || {}, d);
  }

  // The variation the server chose when it queued the alert (docs/widgets.md): the same on
  // every overlay. Its template is filled with text only: donor text never becomes markup.
  function renderVariation(variation, d) {
    root.dataset.variation = variation.id || "";
    root.dataset.animation = variation.layout || settings.animation;
    const template = variation.text;
    variationText.hidden = !template;
    name.hidden = amount.hidden = Boolean(template);
    if (!template) return;
    const values = { name: ui.donorName(t, d), amount: d.display.amount, message: d.message || "", source: d.source };
    variationText.textContent = template.replace(/\{(name|amount|message|source)\}/g, (_, key) => values[key]);
  }

  function renderIncentive(chosen) {
    incentive.hidden = !(settings.show_incentive && chosen);
    if (incentive.hidden) return;
    incentive.textContent = chosen.label
      ? t("vote_for", { label: chosen.label, title: chosen.title }) : t("for_incentive", { title: chosen.title });
  }

  // A target reached is news of its own: a banner beside whatever alert plays, for a few seconds.
  function celebrate(target) {
    reached.textContent = t("target_reached", { title: target.title });
    reached.hidden = false;
    ui.restartAnimation(reached, "is-shown");
    clearTimeout(reachedTimer);
    reachedTimer = setTimeout(() => { reached.hidden = true; }, REACHED_MS);
  }

  // 0: the base alert; i: the i-th tier by amount (config.tiers), as the editor lists them.
  function tierIndex(tier) {
    return tier.min_amount ? (config.tiers || []).indexOf(tier.min_amount) + 1 : 0;
  }

  // The editor's choice (media library) first, then the tier's file in config.yaml, then ours.
  function libraryUrl(list, tier) {
    const name = (list || [])[tierIndex(tier)];
    return name ? `/media/${encodeURIComponent(config.channel)}/${encodeURIComponent(name)}` : null;
  }

  function variationUrl(file) {
    return file ? `/media/${encodeURIComponent(config.channel)}/${encodeURIComponent(file)}` : null;
  }

  function imageUrl(tier, variation) {
    return variationUrl(variation?.image) || libraryUrl(settings.tier_images, tier)
      || (tier.image ? `/media/${encodeURIComponent(tier.image)}` : null);
  }

  // null: the built-in heart; a .webm or .mp4: a video; anything else: an image.
  function showPicture(url) {
    const isVideo = Boolean(url) && /\.(webm|mp4)$/i.test(url);
    heart.toggleAttribute("hidden", Boolean(url)); // an <svg> has no .hidden property
    image.hidden = !url || isVideo;
    video.hidden = !isVideo;
    if (!isVideo) video.removeAttribute("src");
    if (url && isVideo && video.getAttribute("src") !== url) video.src = url;
    if (url && !isVideo) image.src = url;
  }

  function playingVideo() {
    return settings.show_image && !video.hidden;
  }

  // A video plays its own sound in place of the alert's (muted when sound is off, or joined
  // late); speech follows when it ends.
  function playVideo(elapsed, withSound) {
    video.muted = !withSound;
    video.volume = settings.volume;
    video.currentTime = Math.max(0, elapsed / 1000);
    video.play().catch((err) => {
      console.warn(`overlay: video not played (${err.name})`);
      if (withSound) speak();
    });
    if (!withSound) speak();
  }

  function soundUrl(tier, variation) {
    return variationUrl(variation?.sound) || libraryUrl(settings.tier_sounds, tier)
      || (tier.sound ? `/media/${encodeURIComponent(tier.sound)}` : config.assets.chime);
  }

  function playSound(play, elapsed) {
    speechFor = settings.speech && play.ttsUrl && elapsed <= SOUND_LATE_MS ? play : null;
    if (playingVideo()) {
      playVideo(elapsed, settings.sound && elapsed <= SOUND_LATE_MS);
      return;
    }
    if (!settings.sound || elapsed > SOUND_LATE_MS) {
      speak();
      return;
    }
    audio.src = soundUrl(play.tier || {}, play.variation);
    audio.volume = settings.volume;
    audio.currentTime = Math.max(0, elapsed / 1000);
    // OBS lets pages play sound; an ordinary browser tab may not until clicked: no matter.
    audio.play().catch((err) => {
      console.warn(`overlay: sound not played (${err.name})`);
      speak();
    });
  }

  // Speech follows the sound; the clip was requested when the play event arrived, so it is
  // usually ready by now; if not, play() starts it as soon as it is.
  function speak() {
    if (!speechFor || speechFor !== showing) return;
    speechFor = null;
    voice.play().catch((err) => console.warn(`overlay: speech not played (${err.name})`));
  }

  function stopSpeech() {
    speechFor = null;
    voice.pause();
  }

  function preloadSpeech(play) {
    if (!settings.speech || !play.ttsUrl) return;
    voice.src = play.ttsUrl;
    voice.load();
  }

  function show(play) {
    clearTimeout(exitTimer);
    showing = play;
    render(play);
    card.hidden = false;
    fitText();
    ui.restartAnimation(root, "is-in");
    root.classList.remove("is-out");
    playSound(play, client.serverNow() - play.startsAt);
  }

  function fitText() {
    fit(name, MIN_FONT_PX.name);
    fit(variationText, MIN_FONT_PX.text);
    fit(message, MIN_FONT_PX.message);
  }
  // Measured again in the real font: the page shows no text until the first alert, so its font
  // (or a subset holding a donor's letters) only starts loading then, after the first fit.
  document.fonts.ready.then(() => { if (showing) fitText(); });
  document.fonts.addEventListener("loadingdone", () => { if (showing) fitText(); });

  function hide(afterMs = EXIT_MS) {
    if (!showing) return;
    showing = null;
    root.classList.remove("is-in");
    root.classList.add("is-out");
    exitTimer = setTimeout(() => {
      card.hidden = true;
      root.classList.remove("is-out");
      audio.pause();
      video.pause();
    }, afterMs);
    stopSpeech(); // the picture leaves: the voice stops with it
  }

  function schedule(play) {
    cancelTimers();
    const now = client.serverNow();
    const endIn = Math.max(0, play.endsAt - now - EXIT_MS);
    if (showing && showing.donation.id === play.donation.id && showing.startsAt === play.startsAt) {
      timers.push(setTimeout(() => hide(), endIn)); // the same alert (a reconnect): no second entrance
      return;
    }
    if (showing) hide(0);
    if (now >= play.endsAt) return;
    const showIn = Math.max(0, play.startsAt - now);
    preloadSpeech(play);
    timers.push(setTimeout(() => show(play), showIn));
    timers.push(setTimeout(() => hide(), Math.max(showIn, endIn)));
  }

  client.onState((state) => {
    match = state.match;
    const p = state.alerts.playing;
    if (p) {
      schedule({ ...p, startsAt: Date.parse(p.starts_at), endsAt: Date.parse(p.ends_at) });
    } else {
      cancelTimers();
      hide();
    }
  });
  client.on("match", (ev) => { match = ev.match; });
  client.on("incentive", (ev) => { if (ev.reached && settings.show_reached) celebrate(ev.incentive); });
  // New settings (a preset saved in the editor): redraw what is on screen with them.
  const applySettings = () => {
    audio.volume = settings.volume;
    voice.volume = settings.speech_volume;
    if (showing) render(showing);
  };
  client.on("alert", (ev) => {
    if (ev.action === "play") {
      const startsAt = Date.parse(ev.starts_at);
      schedule({ donation: ev.donation, tier: ev.tier, variation: ev.variation, ttsUrl: ev.tts_url,
        startsAt, endsAt: startsAt + ev.duration_ms });
    } else if (ev.action === "skip" || ev.action === "clear") {
      cancelTimers();
      hide(); // at once; "pause" lets the playing alert finish, as the queue does
    } else if (ev.action === "skip_speech") {
      stopSpeech(); // the picture stays until its end
    }
  });
  return { applySettings };
}
