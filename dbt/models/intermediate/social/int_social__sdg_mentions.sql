-- One row per post and SDG it mentions: #SDG13-style hashtags, "SDG 13" / "Global Goal 13" in the text,
-- and keywords of the seed sdg_keyword in the post's language (matched by the loader, which reads the seed).
select
    p.post_key,
    p.posted_month,
    p.author_pseudonym,
    p.engagement,
    s.sdg
from {{ ref('int_social__posts') }} as p
cross join lateral unnest(p.sdgs) as s (sdg)
