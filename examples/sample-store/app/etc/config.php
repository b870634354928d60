<?php
/**
 * Shared configuration of the sample store, as written by `bin/magento app:config:dump`.
 * Committed to the repository so that builds (static content deploy) need no database.
 */
return [
    // Enabled modules: 1 = enabled, 0 = disabled.
    'modules' => [
        'Magento_Store' => 1,
        'Magento_Theme' => 1,
        'Magento_Cms' => 1,
    ],
    // Websites, store groups and store views.
    'scopes' => [
        'websites' => [
            'admin' => [
                'website_id' => '0',
                'code' => 'admin',
                'name' => 'Admin',
                'sort_order' => '0',
                'default_group_id' => '0',
                'is_default' => '0',
            ],
            'base' => [
                'website_id' => '1',
                'code' => 'base',
                'name' => 'Main Website',
                'sort_order' => '0',
                'default_group_id' => '1',
                'is_default' => '1',
            ],
        ],
        'groups' => [
            0 => [
                'group_id' => '0',
                'website_id' => '0',
                'code' => 'default',
                'name' => 'Default',
                'root_category_id' => '0',
                'default_store_id' => '0',
            ],
            1 => [
                'group_id' => '1',
                'website_id' => '1',
                'code' => 'main_store',
                'name' => 'Main Website Store',
                'root_category_id' => '2',
                'default_store_id' => '1',
            ],
        ],
        'stores' => [
            'admin' => [
                'store_id' => '0',
                'code' => 'admin',
                'website_id' => '0',
                'group_id' => '0',
                'name' => 'Admin',
                'sort_order' => '0',
                'is_active' => '1',
            ],
            'default' => [
                'store_id' => '1',
                'code' => 'default',
                'website_id' => '1',
                'group_id' => '1',
                'name' => 'Default Store View',
                'sort_order' => '0',
                'is_active' => '1',
            ],
            'fr' => [
                'store_id' => '2',
                'code' => 'fr',
                'website_id' => '1',
                'group_id' => '1',
                'name' => 'French Store View',
                'sort_order' => '1',
                'is_active' => '1',
            ],
        ],
    ],
    // Themes by '<area>/<Vendor>/<name>'; parent_id is the parent's theme_path.
    'themes' => [
        'frontend/Luma/storefront' => [
            'parent_id' => null,
            'theme_path' => 'Luma/storefront',
            'theme_title' => 'Luma Storefront',
            'is_featured' => '0',
            'area' => 'frontend',
            'type' => '0',
            'code' => 'Luma/storefront',
        ],
        'frontend/Luma/child' => [
            'parent_id' => 'Luma/storefront',
            'theme_path' => 'Luma/child',
            'theme_title' => 'Luma Child',
            'is_featured' => '0',
            'area' => 'frontend',
            'type' => '0',
            'code' => 'Luma/child',
        ],
    ],
    // Configuration values by scope: the locale of each store view.
    'system' => [
        'default' => [
            'general' => [
                'locale' => [
                    'code' => 'en_US',
                ],
            ],
        ],
        'stores' => [
            'fr' => [
                'general' => [
                    'locale' => [
                        'code' => 'fr_FR',
                    ],
                ],
            ],
        ],
    ],
];
