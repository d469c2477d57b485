/*
 * The book generator: one book from (seed, index), shaped like the real
 * site's data and nasty where books.h says (enum ac__book_trait).
 *
 * The order of the PRNG draws below is part of the data set's definition:
 * changing it changes every body (the golden hash test says so loudly).
 */
#include <string.h>

#include "site/books.h"
#include "site/internal.h"

/* Common Chinese characters, 3 bytes each in UTF-8, for running text. */
static const char hanzi[] =
    "的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动同工也能下过子"
    "说产种面而方后多定行学法所民得经十三之进着等部度家电力里如水化高自二理起小物现实加量都两体制机"
    "当使点从业本去把性好应开它合还因由其些然前外天政四日那社义事平形相全表间样与关各重新线内数正心"
    "反你明看原又么利比或但质气第向道命此变条只没结解问意建月公无系军很情者最立代想已通并提直题党程"
    "展五果料象员革位入常文总次品式活设及管特件长求老头基资边流路级少图山统接知较将组见计别她手角期"
    "根论运农指几九区强放决西被干做必战先回则任取据处队南给色光门即保治北造百规热领七海口东导器压志"
    "世金增争济阶油思术极交受联什认六共权收证改清己美再采转更单风切打白教速花带安场身车例真务具万每"
    "目至达走积示议声报斗完类八离华名确才科张信马节话米整空元况今集温传土许步群广石记需段研界拉林律";
#define HANZI_COUNT ((sizeof hanzi - 1) / 3)

static const char *const name_words[] = {
    "时间", "简史", "三体", "活着", "围城", "百年孤独", "白夜行", "解忧杂货店", "人类",
    "乌合之众", "经济学原理", "思考", "快与慢", "算法导论", "深入理解", "计算机系统",
    "红楼梦", "平凡的世界", "小王子", "追风筝的人", "明朝那些事儿", "万历十五年", "局外人",
    "挪威的森林", "卧底经济学", "设计心理学", "文化苦旅", "中国哲学", "未来简史",
    "沉默的大多数", "江城", "呼兰河传", "边城", "月亮与六便士", "霍乱时期的爱情",
    "嫌疑人X的献身", "Python", "编程珠玑", "黑客与画家", "浮生六记", "人间词话", "长安",
    "十二时辰", "雪国", "海边的卡夫卡", "恶意", "秘密", "岛上书店", "偷影子的人", "银河帝国"};
static const char *const name_suffixes[] = {"", "", "", "", "（第2版）", "：一部社会史",
                                            "（修订本）", "（上下册）", " 第一卷", "（插图本）"};
static const char *const nationalities[] = {"[英]", "[美]", "[日]", "[法]", "[德]",
                                            "(英)", "[清]", "[俄]", "[哥伦比亚]", "[阿富汗]"};
static const char *const foreign_names[] = {
    "蒂姆·哈福德", "加西亚·马尔克斯", "村上春树", "东野圭吾", "乔治·奥威尔",
    "阿加莎·克里斯蒂", "卡勒德·胡赛尼", "安托万·德·圣埃克苏佩里", "尤瓦尔·赫拉利",
    "丹尼尔·卡尼曼", "Donald E. Knuth", "Randal E. Bryant", "W. Richard Stevens", "J.K.罗琳",
    "艾萨克·阿西莫夫", "川端康成", "毛姆", "阿尔贝·加缪"};
static const char *const chinese_authors[] = {"余华", "钱锺书", "刘慈欣", "路遥", "沈从文",
                                              "萧红", "鲁迅", "季羡林", "王小波", "当年明月",
                                              "黄仁宇", "马伯庸", "曹雪芹", "三毛", "余秋雨"};
static const char surnames[] = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾"
                               "肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏";
#define SURNAME_COUNT ((sizeof surnames - 1) / 3)
static const char *const publishers[] = {
    "中信出版社", "人民文学出版社", "上海译文出版社", "南海出版公司", "生活·读书·新知三联书店",
    "机械工业出版社", "人民邮电出版社", "北京十月文艺出版社", "译林出版社", "作家出版社",
    "重庆出版社", "浙江文艺出版社", "广西师范大学出版社", "O'Reilly Media, Inc."};
static const char *const tag_words[] = {
    "小说", "文学", "历史", "经典", "外国文学", "日本", "推理", "东野圭吾", "科普", "心理学",
    "经济学", "计算机", "编程", "哲学", "社会学", "传记", "科幻", "中国", "散文", "随笔",
    "管理", "商业", "成长", "漫画", "绘本", "C++", "算法", "互联网"};
static const char *const numerals[] = {"一", "二", "三", "四", "五", "六", "七", "八",
                                       "九", "十", "十一", "十二", "十三", "十四", "十五"};
static const char *const comment_tails[] = {"", "", "", "！", "。推荐！", "…", "5星推荐!!!",
                                            "？", "，值得一读。", " :)"};

#define PICK(r, arr) ((arr)[ac__rng_below((r), (uint32_t)(sizeof(arr) / sizeof((arr)[0])))])

/* The padding the real site leaves around author names (12 spaces). */
#define PAD "\n            "

void ac__book_rng(struct ac__rng *r, uint64_t seed, size_t i) {
  uint64_t x = seed ^ (0xD1B54A32D192ED03ULL * ((uint64_t)i + 1));
  ac__rng_seed(r, ac__splitmix64(&x));
}

uint64_t ac__book_id_step(uint64_t seed, size_t i) {
  struct ac__rng r;
  ac__book_rng(&r, seed, i);
  if (i == 0) return 10000000u + ac__rng_below(&r, 1000000);
  return ac__rng_range(&r, 1, 999);
}

unsigned ac__books_traits(size_t i) {
  unsigned t = 0;
  if (i % 50 == 7) t |= AC_BOOK_EMPTY_ARRAYS;
  else if (i % 3 == 0) t |= AC_BOOK_PADDED_AUTHORS;
  if (i % 50 == 1) t |= AC_BOOK_NON_BMP;
  if (i % 50 == 2) t |= AC_BOOK_U_ESCAPES;
  if (i % 50 == 3) t |= AC_BOOK_QUOTES;
  if (i % 50 == 4) t |= AC_BOOK_CONTROL;
  if (i % 500 == 5) t |= AC_BOOK_NUL;
  if (i % 50 == 6) t |= AC_BOOK_NULLS;
  if (i % 904 == 17) t |= AC_BOOK_BIG_TEXT;
  if (i % 10 == 8) t |= AC_BOOK_FLOAT_SCORE;
  if (i % 10 == 9) t |= AC_BOOK_FLOAT_PRICE;
  if (i == 11) t |= AC_BOOK_BIG_INT;
  if (i % 50 == 12) t |= AC_BOOK_NUMERIC_IDS;
  return t;
}

/* Value constructors: a value covers the arena bytes written since `start`. */
static struct book_val val_from(const struct ac__dynbuf *a, size_t start, unsigned char kind) {
  struct book_val v = {kind, 0, start, ac__dynbuf_len(a) - start};
  return v;
}

static struct book_val val_str(struct ac__dynbuf *a, const char *s) {
  size_t start = ac__dynbuf_len(a);
  ac__dynbuf_adds(a, s);
  return val_from(a, start, BOOK_STR);
}

static struct book_val val_null(void) {
  struct book_val v = {BOOK_NULL, 0, 0, 0};
  return v;
}

static void put_hanzi(struct ac__dynbuf *a, struct ac__rng *r, unsigned count) {
  /* Most of the text is these: room for the run once, then plain stores,
   * rather than an append (and its checks) per character. */
  if (ac__dynbuf_reserve(a, 3 * (size_t)count) != 0) return;
  char *o = ac__dynbuf_ptr(a) + ac__dynbuf_len(a);
  for (unsigned k = 0; k < count; k++)
    memcpy(o + 3 * k, hanzi + 3 * ac__rng_below(r, (uint32_t)HANZI_COUNT), 3);
  ac__dynbuf_setlen(a, ac__dynbuf_len(a) + 3 * (size_t)count);
}

/* A sentence of running Chinese text with commas, now and then an ASCII
 * word or a number, ending with a full stop. */
static void put_sentence(struct ac__dynbuf *a, struct ac__rng *r) {
  unsigned clauses = ac__rng_range(r, 1, 4);
  for (unsigned c = 0; c < clauses; c++) {
    if (c > 0) ac__dynbuf_adds(a, "，");
    put_hanzi(a, r, ac__rng_range(r, 4, 14));
    if (ac__rng_chance(r, 1, 12)) {
      ac__json_u64(a, ac__rng_range(r, 1900, 2020));
      ac__dynbuf_adds(a, "年");
    } else if (ac__rng_chance(r, 1, 15)) {
      ac__dynbuf_adds(a, " ");
      ac__dynbuf_adds(a, PICK(r, name_words));
      ac__dynbuf_adds(a, " ");
    }
  }
  ac__dynbuf_adds(a, ac__rng_chance(r, 1, 8) ? "！" : "。");
}

static void put_paragraph(struct ac__dynbuf *a, struct ac__rng *r, unsigned sentences) {
  if (ac__rng_chance(r, 1, 3)) ac__dynbuf_adds(a, "　　"); /* full-width indent */
  for (unsigned s = 0; s < sentences; s++) put_sentence(a, r);
}

static void put_person(struct ac__dynbuf *a, struct ac__rng *r) {
  ac__dynbuf_add(a, surnames + 3 * ac__rng_below(r, (uint32_t)SURNAME_COUNT), 3);
  put_hanzi(a, r, ac__rng_range(r, 1, 2));
}

/* An author (or translator) string. Foreign authors carry a nationality;
 * padded ones are laid out as the real site's HTML-scraped strings. */
static struct book_val gen_author(struct ac__dynbuf *a, struct ac__rng *r, int foreign, int padded) {
  size_t start = ac__dynbuf_len(a);
  const char *nat = foreign ? PICK(r, nationalities) : NULL;
  const char *who = foreign ? PICK(r, foreign_names) : NULL;
  int famous = !foreign && ac__rng_chance(r, 1, 2);
  const char *cn = famous ? PICK(r, chinese_authors) : NULL;
  if (padded) ac__dynbuf_adds(a, PAD);
  if (nat != NULL) {
    ac__dynbuf_adds(a, nat);
    ac__dynbuf_adds(a, padded ? PAD : " ");
  }
  if (who != NULL) ac__dynbuf_adds(a, who);
  else if (cn != NULL) ac__dynbuf_adds(a, cn);
  else put_person(a, r);
  if (padded) ac__dynbuf_adds(a, PAD);
  return val_from(a, start, BOOK_STR);
}

/* A date as days since 1970-01-01 to "YYYY-MM-DD" (Hinnant's civil_from_days,
 * valid for the non-negative day numbers used here). */
static void put_date(struct ac__dynbuf *a, uint32_t days) {
  uint32_t z = days + 719468;
  uint32_t era = z / 146097;
  uint32_t doe = z - era * 146097;
  uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  uint32_t y = yoe + era * 400;
  uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  uint32_t mp = (5 * doy + 2) / 153;
  uint32_t d = doy - (153 * mp + 2) / 5 + 1;
  uint32_t m = mp < 10 ? mp + 3 : mp - 9;
  if (m <= 2) y++;
  ac__json_u64_pad(a, y, 4);
  ac__dynbuf_addc(a, '-');
  ac__json_u64_pad(a, m, 2);
  ac__dynbuf_addc(a, '-');
  ac__json_u64_pad(a, d, 2);
}

static void put_time(struct ac__dynbuf *a, uint32_t h, uint32_t mi, uint32_t s) {
  ac__dynbuf_addc(a, 'T');
  ac__json_u64_pad(a, h, 2);
  ac__dynbuf_addc(a, ':');
  ac__json_u64_pad(a, mi, 2);
  ac__dynbuf_addc(a, ':');
  ac__json_u64_pad(a, s, 2);
}

/* Appends an ISBN-13 with a correct check digit. */
static void put_isbn(struct ac__dynbuf *a, struct ac__rng *r) {
  char d[13] = {'9', '7', '8'};
  unsigned sum = 9 + 3 * 7 + 8;
  for (int k = 3; k < 12; k++) {
    unsigned v = ac__rng_below(r, 10);
    d[k] = (char)('0' + v);
    sum += (k % 2 == 0) ? v : 3 * v;
  }
  d[12] = (char)('0' + (10 - sum % 10) % 10);
  ac__dynbuf_add(a, d, sizeof d);
}

/* The introduction's share of the traits, after its first paragraph. */
static void put_intro_traits(struct ac__dynbuf *a, unsigned t) {
  if (t & AC_BOOK_NON_BMP)
    ac__dynbuf_adds(a, "看到结局😀，“𠮷”字\xE2\x80\xA8另起一行\xEF\xBB\xBF，全家👨\xE2\x80\x8D👩\xE2\x80\x8D👧都爱读。");
  if (t & AC_BOOK_QUOTES)
    ac__dynbuf_adds(a, "书里写道：\"路径是 C:\\Program Files\\acrawl\\ 而不是 /usr/bin/\"，"
                     "数据是 {\"$date\": \"yesterday\"}。");
  if (t & AC_BOOK_CONTROL)
    ac__dynbuf_adds(a, "控制\x01字符\x1f与\t制表符\r\n换行\b退格\f换页\x7f删除。");
}

/* The introduction: paragraphs separated by "\n", or for big texts enough
 * paragraphs to fill the drawn size, cut back to a character boundary. */
static struct book_val gen_introduction(struct ac__dynbuf *a, struct ac__rng *r, unsigned t) {
  size_t start = ac__dynbuf_len(a);
  if (t & AC_BOOK_BIG_TEXT) {
    /* 100,003 and up: the cut to a character boundary takes at most 3. */
    size_t want = ac__rng_range(r, 100003, 300000);
    put_paragraph(a, r, ac__rng_range(r, 3, 12));
    put_intro_traits(a, t);
    while (ac__dynbuf_err(a) == 0 && ac__dynbuf_len(a) - start < want) {
      ac__dynbuf_addc(a, '\n');
      put_paragraph(a, r, ac__rng_range(r, 3, 12));
    }
    if (ac__dynbuf_err(a) != 0) return val_null();
    if (ac__dynbuf_len(a) - start > want) {
      const char *p = ac__dynbuf_ptr(a);
      size_t cut = start + want;
      while ((p[cut] & 0xC0) == 0x80) cut--; /* not inside a character */
      ac__dynbuf_setlen(a, cut);
    }
    return val_from(a, start, BOOK_STR);
  }
  if (t & AC_BOOK_EMPTY_ARRAYS) return val_from(a, start, BOOK_STR); /* "" */
  unsigned paras = ac__rng_range(r, 2, 8);
  for (unsigned p = 0; p < paras; p++) {
    if (p > 0) ac__dynbuf_addc(a, '\n');
    put_paragraph(a, r, ac__rng_range(r, 2, 10));
    if (p == 0) put_intro_traits(a, t);
  }
  return val_from(a, start, BOOK_STR);
}

static struct book_val gen_catalog(struct ac__dynbuf *a, struct ac__rng *r, unsigned t) {
  if (t & AC_BOOK_NULLS) return val_null();
  size_t start = ac__dynbuf_len(a);
  unsigned lines = ac__rng_range(r, 0, 15);
  if (lines == 0 && (t & AC_BOOK_NUL)) lines = 1; /* the NUL lives in the first line */
  if (lines == 0) return val_from(a, start, BOOK_STR); /* "" as on the real site */
  ac__dynbuf_adds(a, "序言");
  for (unsigned k = 0; k < lines; k++) {
    ac__dynbuf_adds(a, "\n第");
    ac__dynbuf_adds(a, numerals[k]);
    ac__dynbuf_adds(a, "章 ");
    put_hanzi(a, r, ac__rng_range(r, 2, 10));
    if (k == 0 && (t & AC_BOOK_NUL)) ac__dynbuf_add(a, "\0藏在中间", sizeof "\0藏在中间" - 1);
  }
  ac__dynbuf_adds(a, "\n后记");
  return val_from(a, start, BOOK_STR);
}

static void gen_comments(struct book *bk, struct ac__dynbuf *a, struct ac__rng *r, unsigned t) {
  unsigned n = (t & AC_BOOK_EMPTY_ARRAYS) ? 0 : ac__rng_range(r, 0, BOOK_MAX_COMMENTS);
  if (n == 0 && (t & (AC_BOOK_NON_BMP | AC_BOOK_U_ESCAPES | AC_BOOK_NUL | AC_BOOK_BIG_INT |
                      AC_BOOK_NUMERIC_IDS)))
    n = 1; /* these traits live in the first comment */
  bk->n_comments = n;
  for (unsigned k = 0; k < n; k++) {
    size_t start = ac__dynbuf_len(a);
    if (k == 0 && (t & AC_BOOK_BIG_INT)) {
      ac__dynbuf_adds(a, "9007199254740993");
      bk->comment_ids[k] = val_from(a, start, BOOK_NUM);
    } else if (t & AC_BOOK_NUMERIC_IDS) {
      ac__json_u64(a, ac__rng_range(r, 100000, 2147483647u));
      bk->comment_ids[k] = val_from(a, start, BOOK_NUM);
    } else {
      ac__dynbuf_addc(a, '1');
      ac__json_u64_pad(a, ac__rng_below(r, 1000000000u), 9);
      bk->comment_ids[k] = val_from(a, start, BOOK_STR);
    }
    start = ac__dynbuf_len(a);
    if (k == 0 && (t & AC_BOOK_NUL)) ac__dynbuf_add(a, "\0", 1);
    put_hanzi(a, r, ac__rng_range(r, 3, 60));
    if (ac__rng_chance(r, 1, 2)) {
      ac__dynbuf_adds(a, "，");
      put_hanzi(a, r, ac__rng_range(r, 3, 90));
    }
    if (k == 0 && (t & AC_BOOK_NON_BMP)) ac__dynbuf_adds(a, "👍🏽");
    ac__dynbuf_adds(a, PICK(r, comment_tails));
    bk->comment_texts[k] = val_from(a, start, BOOK_STR);
    if (k == 0 && (t & AC_BOOK_U_ESCAPES)) bk->comment_texts[k].ascii = 1;
  }
}

int ac__book_generate(struct book *bk, struct ac__dynbuf *a, uint64_t seed, size_t i, uint64_t id) {
  struct ac__rng rng, *r = &rng;
  unsigned t = ac__books_traits(i);
  size_t start;

  ac__dynbuf_reset(a);
  memset(bk, 0, sizeof *bk);
  bk->id = id;
  bk->traits = t;
  ac__book_rng(r, seed, i);
  (void)ac__rng_next(r); /* the id step (ac__book_id_step) */

  /* name */
  start = ac__dynbuf_len(a);
  if (t & AC_BOOK_QUOTES) ac__dynbuf_adds(a, "《\"引号\"与\\反斜杠\\》");
  unsigned words = ac__rng_range(r, 1, 3);
  for (unsigned k = 0; k < words; k++) ac__dynbuf_adds(a, PICK(r, name_words));
  ac__dynbuf_adds(a, PICK(r, name_suffixes));
  if (t & (AC_BOOK_NON_BMP | AC_BOOK_U_ESCAPES)) ac__dynbuf_adds(a, "📚");
  bk->name = val_from(a, start, BOOK_STR);
  bk->name.ascii = (t & AC_BOOK_U_ESCAPES) != 0;

  /* authors, translators */
  int padded = (t & AC_BOOK_PADDED_AUTHORS) != 0;
  int foreign = ac__rng_chance(r, 2, 5);
  bk->n_authors = (t & AC_BOOK_EMPTY_ARRAYS) ? 0 : ac__rng_range(r, 1, 100) <= 85 ? 1
                                                 : ac__rng_range(r, 2, BOOK_MAX_AUTHORS);
  for (unsigned k = 0; k < bk->n_authors; k++) bk->authors[k] = gen_author(a, r, foreign, padded);
  if (bk->n_authors > 0 && (t & AC_BOOK_U_ESCAPES)) bk->authors[0].ascii = 1;
  if (t & AC_BOOK_NULLS) {
    bk->translators_null = 1;
  } else if (foreign && !(t & AC_BOOK_EMPTY_ARRAYS)) {
    bk->n_translators = ac__rng_range(r, 1, BOOK_MAX_TRANSLATORS);
    for (unsigned k = 0; k < bk->n_translators; k++) bk->translators[k] = gen_author(a, r, 0, padded);
  }

  /* publisher, tags, url, isbn, cover */
  if (t & AC_BOOK_NULLS) {
    bk->publisher = val_null();
  } else {
    bk->publisher = val_str(a, PICK(r, publishers));
    bk->publisher.ascii = (t & AC_BOOK_U_ESCAPES) != 0;
  }
  bk->n_tags = (t & AC_BOOK_EMPTY_ARRAYS) ? 0 : ac__rng_range(r, (t & AC_BOOK_QUOTES) ? 1 : 0, BOOK_MAX_TAGS);
  for (unsigned k = 0; k < bk->n_tags; k++) {
    if (k == 0 && (t & AC_BOOK_QUOTES)) bk->tags[k] = val_str(a, "C\\C++ \"进阶\"");
    else bk->tags[k] = val_str(a, PICK(r, tag_words));
  }
  start = ac__dynbuf_len(a);
  ac__dynbuf_adds(a, "https://book.douban.com/subject/");
  ac__json_u64(a, id);
  ac__dynbuf_addc(a, '/');
  bk->url = val_from(a, start, BOOK_STR);
  if (t & AC_BOOK_NULLS) {
    bk->isbn = val_null();
  } else {
    start = ac__dynbuf_len(a);
    put_isbn(a, r);
    bk->isbn = val_from(a, start, BOOK_STR);
  }
  start = ac__dynbuf_len(a);
  ac__dynbuf_adds(a, "https://img");
  ac__json_u64(a, ac__rng_range(r, 1, 9));
  ac__dynbuf_adds(a, ".doubanio.com/view/subject/l/public/s");
  ac__json_u64_pad(a, ac__rng_range(r, 1000000, 33999999), 8);
  ac__dynbuf_adds(a, ".jpg");
  bk->cover = val_from(a, start, BOOK_STR);

  /* page_number, price, score */
  uint32_t pages = ac__rng_range(r, 80, 1200);
  if ((t & AC_BOOK_NULLS) || ac__rng_chance(r, 1, 20)) {
    bk->page_number = val_null();
  } else {
    start = ac__dynbuf_len(a);
    ac__json_u64(a, pages);
    bk->page_number = val_from(a, start, BOOK_NUM);
  }
  uint32_t cents = ac__rng_range(r, 10, 199) * 100 + 10 * ac__rng_below(r, 10);
  uint32_t style = ac__rng_below(r, 10);
  start = ac__dynbuf_len(a);
  if (t & AC_BOOK_NULLS) {
    bk->price = val_null();
  } else if ((t & AC_BOOK_FLOAT_PRICE) && i % 1000 == 9) {
    ac__dynbuf_adds(a, "1.2e+2");
    bk->price = val_from(a, start, BOOK_NUM);
  } else if (t & AC_BOOK_FLOAT_PRICE) {
    ac__json_fixed(a, cents, 2);
    bk->price = val_from(a, start, BOOK_NUM);
  } else {
    if (style == 7) ac__dynbuf_adds(a, "CNY ");
    else if (style == 8) ac__dynbuf_adds(a, "$");
    ac__json_fixed(a, cents, 2);
    if (style < 6) ac__dynbuf_adds(a, "元");
    else if (style == 6) ac__dynbuf_adds(a, " 元");
    bk->price = val_from(a, start, BOOK_STR);
  }
  uint32_t tenths = ac__rng_range(r, 50, 99);
  start = ac__dynbuf_len(a);
  if (t & AC_BOOK_NULLS) {
    bk->score = val_null();
  } else if (t & AC_BOOK_FLOAT_SCORE) {
    ac__json_fixed(a, tenths * 10, 2); /* 8.50: the trailing zero is the point */
    bk->score = val_from(a, start, BOOK_NUM);
  } else {
    ac__json_fixed(a, tenths, 1);
    bk->score = val_from(a, start, BOOK_STR);
  }

  /* texts */
  bk->introduction = gen_introduction(a, r, t);
  bk->catalog = gen_catalog(a, r, t);

  /* dates: published between 1970 and early 2020 (local midnight, UTC+8),
   * updated in March 2020 with microseconds, as the real site's records. */
  uint32_t day = ac__rng_range(r, 0, 18321); /* 1970-01-01 .. 2020-02-29 */
  uint32_t upd = 18341 + ac__rng_below(r, 3), usec = ac__rng_below(r, 1000000);
  uint32_t hh = ac__rng_below(r, 24), mm = ac__rng_below(r, 60), ss = ac__rng_below(r, 60);
  if ((t & AC_BOOK_NULLS) || ac__rng_chance(r, 1, 40)) {
    bk->published_at = val_null();
  } else {
    start = ac__dynbuf_len(a);
    put_date(a, day);
    put_time(a, 16, 0, 0);
    ac__dynbuf_addc(a, 'Z');
    bk->published_at = val_from(a, start, BOOK_STR);
  }
  if (t & AC_BOOK_NULLS) {
    bk->updated_at = val_null();
  } else {
    start = ac__dynbuf_len(a);
    put_date(a, upd);
    put_time(a, hh, mm, ss);
    ac__dynbuf_addc(a, '.');
    ac__json_u64_pad(a, usec, 6);
    ac__dynbuf_addc(a, 'Z');
    bk->updated_at = val_from(a, start, BOOK_STR);
  }

  gen_comments(bk, a, r, t);
  return ac__dynbuf_err(a);
}

void ac__book_write_val(struct ac__dynbuf *out, const struct ac__dynbuf *arena,
                        const struct book_val *v) {
  /* An arena that was never written to has no bytes: its values are "". */
  const char *text = ac__dynbuf_ptr(arena) != NULL ? ac__dynbuf_ptr(arena) + v->off : "";
  switch (v->kind) {
    case BOOK_NUM: ac__dynbuf_add(out, text, v->len); break;
    case BOOK_STR:
      ac__json_str(out, text, v->len, v->ascii ? AC__JSON_ASCII : AC__JSON_UTF8);
      break;
    default: ac__dynbuf_adds(out, "null"); break;
  }
}
