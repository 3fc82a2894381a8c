// Eleventy's benchmark site (benchmarks/compare.py). The plugin is found through NODE_PATH,
// which compare.py sets to the node_modules folder outside the repository.
const syntaxHighlight = require("@11ty/eleventy-plugin-syntaxhighlight");

module.exports = function (eleventyConfig) {
  eleventyConfig.addPlugin(syntaxHighlight);  // Prism, at build time
  eleventyConfig.addCollection("posts", (api) =>
    api.getFilteredByGlob("./posts/*.md").sort((a, b) => b.date - a.date));
  eleventyConfig.addFilter("isodate", (d) => d.toISOString().slice(0, 10));
  eleventyConfig.addFilter("tagnames", (collections) =>
    Object.keys(collections).filter((k) => k !== "all" && k !== "posts").sort());
  return {
    dir: { input: ".", includes: "_includes" },
    markdownTemplateEngine: false,  // bodies are Markdown only, as in the other tools
    htmlTemplateEngine: "njk",
  };
};
