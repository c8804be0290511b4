"""What ``snakemake --report`` shows: figures (spectrograms, score
distributions), the HTML pages (the landing page's headline, the comparison
and official tables), and the listening pages."""
